"""The built-in tools. Importing this package registers them."""

from tools.builtins import appointments, customers  # noqa: F401
