"""Write services of the tools app (appointments, linking tool records to calls).

Customer writes live in ``calls.services.customers``; reads in ``tools.selectors``.
"""
