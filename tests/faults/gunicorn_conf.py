"""gunicorn config for fault tests: install the web fault hooks in each worker."""


def post_worker_init(worker):
    from tests.faults import hooks

    hooks.install_web_hooks()
