"""OpenAI organisation Usage and Costs API double, for codex-guard's org-spend tests.

Like `github_double`, it lives outside the product and is not installed in the checkout's
venv: pytest loads it from `double/` (pyproject's `pythonpath`); nothing in `bot` or
`worker` may import it. Shapes and where they come from: `openai_double.shapes`.
"""

from openai_double.server import DEFAULT_KEY, OpenAIDouble, RecordedRequest
from openai_double.shapes import COSTS_PATH, USAGE_PATH, completions_result, costs_result

__all__ = [
    "COSTS_PATH",
    "DEFAULT_KEY",
    "USAGE_PATH",
    "OpenAIDouble",
    "RecordedRequest",
    "completions_result",
    "costs_result",
]
