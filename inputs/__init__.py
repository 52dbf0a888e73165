"""Data tables and model configurations shipped with the code.

Installed as the package ``corona_inputs``; locate files with
:func:`transport.core.data.input_path`, never by relative paths.
"""
