"""Platform-neutral publishing: the tick-fenced state machine (``machine``), the one run that
drives every platform's Publisher (``plugin_run``), the job entry points (``jobs``), the
completion events (``completion``) and the sweep that rescues posts whose job died (``sweep``).
A platform provides its steps as a Publisher (socialsync/platforms/base.py), which returns
outcomes and never touches storage or the queue."""
