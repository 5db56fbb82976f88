# Drives the usage guide's Python client classes (extracted verbatim by usage-guide-python.test.ts
# into CLIENT_DIR/keruta_guide_client.py) against a test server, and prints what they return.
#
#   usage-guide-python-driver.py CLIENT_DIR rest API_URL WORK_DIR   -> one JSON object on stdout
#   usage-guide-python-driver.py CLIENT_DIR websocket WS_URL        -> one JSON line per frame;
#                                                                      a line on stdin disconnects
import json
import os
import sys

sys.path.insert(0, sys.argv[1])
from keruta_guide_client import KerutaLogClient, KerutaWebSocketClient  # noqa: E402

import requests  # noqa: E402


def rest(api_url, work_dir):
    client = KerutaLogClient(base_url=api_url, auth_token="your-jwt-token")
    out = {}
    # Reads first, then exports, then the deletes.
    out["default"] = client.get_logs("task123")
    out["stdout"] = client.get_logs("task123", source="stdout")
    out["error"] = client.get_logs("task123", level="ERROR")
    out["stderrError"] = client.get_logs("task123", source="stderr", level="ERROR")
    out["page1"] = client.get_logs("task123", page=1, size=50)
    out["stats"] = client.get_log_stats("task123")
    out["jsonBytes"] = client.export_logs("task123").decode("utf-8")
    out["csvBytes"] = client.export_logs("task123", format="csv").decode("utf-8")
    json_file = client.export_logs("task123", format="json", output_file=os.path.join(work_dir, "task123_logs.json"))
    csv_file = client.export_logs("task123", format="csv", output_file=os.path.join(work_dir, "task123_logs.csv"))
    out["files"] = {"json": json_file, "csv": csv_file}
    try:
        client.get_logs("no-such-task")
        out["missing"] = None
    except requests.HTTPError as error:
        out["missing"] = {"status": error.response.status_code, "body": error.response.json()}
    out["deleteBefore"] = client.delete_logs("task123", before="2024-01-01T00:00:00Z")
    out["afterDeleteBefore"] = client.get_logs("task123", size=1000)
    out["deleteAll"] = client.delete_logs("task123")
    out["afterDeleteAll"] = client.get_logs("task123")
    out["otherTask"] = client.get_logs("task456")
    print(json.dumps(out, ensure_ascii=False))


def websocket_frames(ws_url):
    # websocket-client calls on_message(app, text); the guide's class hands our callback to it
    # as is (its own on_message method is shadowed by the attribute of the same name).
    def on_frame(_app, text):
        print(json.dumps({"frame": json.loads(text)}, ensure_ascii=False), flush=True)

    ws_client = KerutaWebSocketClient(task_id="task123", ws_url=ws_url, on_message=on_frame)
    ws_client.connect()
    sys.stdin.readline()
    ws_client.disconnect()


if sys.argv[2] == "rest":
    rest(sys.argv[3], sys.argv[4])
else:
    websocket_frames(sys.argv[3])
