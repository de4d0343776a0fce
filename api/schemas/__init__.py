"""Request and response models of the HTTP API (contract models are derived, never copied)."""

from api.schemas.bodies import *  # noqa: F403
from api.schemas.bodies import __all__ as _bodies
from api.schemas.contract import *  # noqa: F403
from api.schemas.contract import __all__ as _contract
from api.schemas.experiments import *  # noqa: F403
from api.schemas.experiments import __all__ as _experiments
from api.schemas.fields import *  # noqa: F403
from api.schemas.fields import __all__ as _fields
from api.schemas.responses import *  # noqa: F403
from api.schemas.responses import __all__ as _responses

__all__ = [*_fields, *_contract, *_bodies, *_responses, *_experiments]  # noqa: PLE0604
