"""MLflow "models from code" definition of the matcher (no pickled objects in the artifact).

MLflow executes this file when loading the logged model; the fitted state comes from the
``match_model`` artifact folder (JSON, NPZ and LightGBM text files). ``predict`` takes a frame of
the pipeline's feature columns and returns the ranking score.
"""

from __future__ import annotations

from typing import Any

import mlflow
import numpy as np
import pandas as pd
from mlflow.pyfunc import PythonModel, PythonModelContext

from matcher.model import MatchModel


class MatcherPyfunc(PythonModel):  # type: ignore[misc]
    """Scores feature rows with the fitted :class:`~matcher.model.MatchModel`."""

    def load_context(self, context: PythonModelContext) -> None:
        """Load the fitted model from the logged artifact folder."""
        self.model = MatchModel.load(context.artifacts["match_model"])

    def predict(
        self, context: PythonModelContext, model_input: pd.DataFrame, params: Any = None
    ) -> np.ndarray:
        """Ranking scores of the rows of ``model_input`` (columns = feature names)."""
        x = model_input[self.model.feature_names].to_numpy(dtype=np.float32)
        return self.model.score(x)


mlflow.models.set_model(MatcherPyfunc())
