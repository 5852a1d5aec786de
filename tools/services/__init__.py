"""Write services of the tools app (appointments, customers). Reads live in ``tools.selectors``."""
