"""The executive report: one self-contained HTML file (and a PDF) a VP can read.

```python
import salesflow as sf
from salesflow.report import write_report

with sf.open("demo-ws") as ws:
    write_report(ws, "report.html", pdf="report.pdf")
```

``build`` gathers the content through the Python API, ``figures`` draws it with Plotly, ``html``
renders the Jinja2 template with plotly.js and the CSS inlined, ``words`` says it in plain words.
"""

from __future__ import annotations

from salesflow.report.build import SECTIONS, Report, build_report
from salesflow.report.write import write_report

__all__ = ["SECTIONS", "Report", "build_report", "write_report"]
