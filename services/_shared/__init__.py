"""What the three services share, written once: AWS clients, settings, observability, retries, parameters, answers.

The template's CodeUri is services/, so every function's package holds this
folder too and imports it as ``_shared``. A service's own modules import from
here; labs import only the services' public names (each service's ``__all__``).
"""
