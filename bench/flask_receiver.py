"""B1's reference point: a webhook receiver written the way Aquarium's "Integrating with
Labeling Using Webhooks" page shows it -- Flask's built-in server, the shared secret checked
from a header, the JSON parsed, the issue handed on. It stores nothing durably."""
import sys

from flask import Flask, request

app = Flask(__name__)
SECRET = "bench-secret"


@app.route("/hooks/<source>", methods=["POST"])
def webhook(source):
    if request.headers.get("X-Loopline-Token") != SECRET:
        return "unauthorized", 401
    payload = request.get_json()
    # The sample hands the payload to the labeling service; here we only look at it.
    _ = payload.get("action") or payload.get("event")
    return {"ok": True}, 200


if __name__ == "__main__":
    port = int(sys.argv[1])
    print(f"Listening on http://127.0.0.1:{port}", flush=True)
    app.run(host="127.0.0.1", port=port, threaded=True)
