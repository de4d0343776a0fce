"""Cross-cutting pieces every layer may import: settings and domain errors."""
