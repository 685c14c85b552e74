"""Container healthchecks (docker-compose.yml): ask the web process's
/readyz and judge the checks that matter for one service.

    python bin/healthcheck.py web    # the database and the broker answer
    python bin/healthcheck.py beat   # and the beat has scanned recently

Standard library only; exits 0 when healthy, 1 otherwise.
"""

import json
import sys
import urllib.error
import urllib.request

NEEDS = {"web": ("database", "broker"), "beat": ("database", "broker", "beat")}
URLS = {"web": "http://127.0.0.1:8000/readyz", "beat": "http://web:8000/readyz"}


def main(service: str) -> int:
    request = urllib.request.Request(URLS[service], headers={"Host": "localhost"})  # noqa: S310 - fixed http URLs
    try:
        body = urllib.request.urlopen(request, timeout=4).read()  # noqa: S310
    except urllib.error.HTTPError as error:  # a 503 still says which check failed
        body = error.read()
    except OSError as error:
        print(f"unreachable: {error}")
        return 1
    checks = json.loads(body)["checks"]
    failing = [name for name in NEEDS[service] if not checks.get(name, {}).get("ok")]
    if failing:
        print("failing: " + ", ".join(f"{name} {checks.get(name)}" for name in failing))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else "web"))
