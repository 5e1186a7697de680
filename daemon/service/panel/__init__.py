"""The control panel: pages a volunteer opens in his browser, served by the daemon's loopback
control endpoint (guards, sessions and CSRF tokens are the endpoint's, see service.control).

Every page and every change goes through the same service functions as the command line
(`Publisher`, `check_connection`, `Profile.save`, …): the panel is one more face.
"""

from daemon.service.panel.routes import panel_routes
from daemon.service.panel.services import PanelServices

__all__ = ["PanelServices", "panel_routes"]
