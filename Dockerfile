FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 APP_ENV=production PORT=8000
WORKDIR /app

# The locked versions, each download checked against its hash (requirements.txt is uv.lock's
# export; `python3 dev.py lock` makes both): two builds a week apart install the same program.
COPY requirements.txt ./
RUN pip install --require-hashes --no-deps -r requirements.txt
COPY . .
RUN useradd --create-home --uid 10001 cart && chown -R cart /app
USER cart

EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s CMD python -c "import urllib.request,os; urllib.request.urlopen(f'http://127.0.0.1:{os.environ[\"PORT\"]}/healthz', timeout=4)"
ENTRYPOINT ["./entrypoint.sh"]
