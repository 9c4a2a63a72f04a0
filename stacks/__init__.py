"""The CDK app. It shares constants with the functions (connect_state.metric_names: the metrics the dashboard graphs),
so the functions' code directory is importable whoever imports the stacks: app.py under the CDK CLI, the tests, the
demo. The functions are not an installed package (they are one Lambda asset), hence the path rather than a dependency.
"""

import sys
from pathlib import Path

_FUNCTIONS_CODE = str(Path(__file__).resolve().parents[1] / "lambdas")
if _FUNCTIONS_CODE not in sys.path:
    sys.path.append(_FUNCTIONS_CODE)
