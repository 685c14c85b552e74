"""gunicorn's settings (`gunicorn -c config/gunicorn.py config.wsgi`): the
access log through core.logs.GunicornLogger, which redacts the tokens of
patient links, calendar feeds and password resets (issue 30)."""

bind = "0.0.0.0:8000"
workers = 3
accesslog = "-"
logger_class = "core.logs.GunicornLogger"
