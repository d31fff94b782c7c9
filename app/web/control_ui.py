"""The dashboard at /_mock/ui (issue 19): one blueprint, its pages in the ui_* modules.

/_mock/ui/                  contracts and coverage, problems
/_mock/ui/journal[/<id>]    the live journal; one request with its mismatches and near misses
/_mock/ui/data[/...]        jobs, runs, uploads, generic collections, paged
/_mock/ui/controls          scenarios, clock, faults, volumes (forms post to /_mock/ui/<what>)
/_mock/ui/assets/<file>     the stylesheet and the small script that refreshes live regions (public)
"""

from __future__ import annotations

from . import ui_data, ui_journal, ui_overview, ui_switches
from .ui_base import ui_control

# The page modules register their routes on the blueprint as they are imported.
PAGE_MODULES = (ui_overview, ui_journal, ui_data, ui_switches)

__all__ = ["PAGE_MODULES", "ui_control"]
