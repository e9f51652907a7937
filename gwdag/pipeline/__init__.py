"""The gravitational-wave domain rules as pure functions over plain data.

Nothing here reads files or imports other gwdag packages: detectors and antenna
patterns, noise-curve moments, the localization likelihood and its adaptive sky
grid, sky-map statistics, and the event simulator's physics.  Constants and rules
come from ``reference/gw-pipeline.md``.
"""
