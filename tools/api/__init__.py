"""The tools app's API: tools, bookable resources and appointments."""
