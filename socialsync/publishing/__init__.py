"""Platform-neutral publishing: the tick-fenced state machine (``machine``), the completion
events (``completion``) and the sweep that rescues posts whose job died (``sweep``). A platform
provides the steps (see socialsync/platforms/instagram/publish.py)."""
