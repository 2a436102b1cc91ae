# One image, several commands: web, worker, worker-odoo, beat, flower (see docker-compose.yml).
FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 HUB_VAR_DIR=/var/lib/hub HUB_BIND_HOST=0.0.0.0
WORKDIR /app
COPY requirements.txt .
RUN pip install --no-cache-dir -r requirements.txt
COPY . .
# Static files are served by WhiteNoise from the installed apps (WHITENOISE_USE_FINDERS).
RUN useradd --system --home /app hub && mkdir -p /var/lib/hub && chown hub /var/lib/hub
USER hub
EXPOSE 8000 5555
CMD ["gunicorn", "integration_hub.wsgi", "--bind", "0.0.0.0:8000", "--worker-class", "gthread", "--workers", "2", "--threads", "4"]
