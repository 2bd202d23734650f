"""The web layer: one package per blueprint, each with its routes and its `services/`, and
`runtime.py`, through which routes reach the app's runtime and the request's DB session."""
