"""The app server: a generic REST API and web client, driven by ``spec.py`` and ``models.py``.

This package is part of a compiled app build. ``main.py``, ``runtime.py``, ``store.py``,
``values.py`` and ``config.py`` are the same in every build; ``spec.py`` and ``models.py``
are generated from the app model. Run it with ``uvicorn server.main:app``.
"""
