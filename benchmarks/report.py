"""Render the results of one benchmark run as Markdown: benchmarks/results.md, whose tables the
README's Benchmarks section sums up in a few figures."""

from __future__ import annotations

from typing import Any

INPUT_TITLES = {
    "sketch_800x800": "800x800 sketch",
    "png_800x800": "800x800 canvas PNG (bytes)",
    "sketch_app_png": "1200x400 sketch, as the app's sketchpad hands it over (3 PNGs)",
    "jpeg_1200x900": "1200x900 JPEG",
    "jpeg_1200x900_shadow": "1200x900 JPEG, a shadow's edge across it",
}


def ms(stats: dict | None, key: str = "p50") -> str:
    if not stats:
        return "–"
    value = stats[key]
    return f"{value:.2f}" if value < 10 else f"{value:.0f}"


def p50_p95(stats: dict | None) -> str:
    return f"{ms(stats)} / {ms(stats, 'p95')}" if stats else "–"


def mb(value: float | None) -> str:
    return f"{value:.0f} MB" if value is not None else "–"


def kb(size: int | None) -> str:
    return f"{size / 1024:.0f} KB" if size else "–"


def pct(acc: dict | None) -> str:
    return f"{100 * acc['accuracy']:.2f}% (n={acc['n']})" if acc else "–"


def table(header: list[str], rows: list[list[Any]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    return lines + ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]


def render(r: dict) -> str:
    m = r["machine"]
    out = [
        "# Benchmarks",
        "",
        f"Command: `{r['command']}`{' (quick: few repetitions, figures are rough)' if r['quick'] else ''}  ",
        f"Machine: {m['cpu']}, {m['cores']} cores; load average {m['load_start']:.1f} at the start, "
        f"{m['load_end']:.1f} at the end  ",
        f"Software: Python {m['python']}, NumPy {m['numpy']}, Pillow {m['pillow']}, {m['interpreter']}; "
        f"baseline TensorFlow {r['baseline']['tensorflow']}, Keras {r['baseline']['keras']}  ",
        f"Date: {r['date']}, commit {r['commit']}",
        "",
        "## Targets",
        "",
        *table(["target", "measured", "met"], [[t["target"], t["measured"], "yes" if t["met"] else "**no**"]
                                                for t in r["targets"]]),
        "",
        *latency_section(r),
        *throughput_section(r),
        *footprint_section(r),
        *models_section(r),
        *line_section(r),
        *load_section(r),
    ]
    return "\n".join(out) + "\n"


def latency_section(r: dict) -> list[str]:
    rows = []
    for name, serving in r["serving"].items():
        base = r["baseline"]["baseline"][name]
        same = r["baseline"]["recognizer_same_process"][name]
        title = INPUT_TITLES.get(name, name)
        rows += [
            [title, "Recognizer, serving process (no TF)", *stages(serving), *whole(serving["predict"])],
            [title, "Recognizer, baseline process (TF loaded)", *stages(same), *whole(same["predict"])],
            [title, "Baseline: 28x28 + Keras `model.predict`", *stages(base), p50_p95(base["total"]), ""],
            [title, "(Keras `model(x)` called directly)", "", "", p50_p95(base["keras_call"]), "", ""],
        ]
    speedups = [f"{INPUT_TITLES.get(n, n)}: **{s['cross_process']:.0f}x** (serving vs baseline process), "
                f"{s['same_process']:.0f}x (both in the baseline process)" for n, s in r["speedup"].items()]
    return [
        "## Latency of one prediction (ms, p50 / p95)",
        "",
        f"{r['reps']['latency']} repetitions ({r['reps']['baseline']} for the baseline process) after a "
        "warm-up; the digits model. The baseline gets the sketch's composite as an array (the original "
        "decoded a PNG of the canvas first, which would cost it more). CPU time is less affected than "
        "wall-clock time by other work on the machine.",
        "",
        *table(["input", "path", "decode", "preprocess", "inference", "end to end", "CPU, mean"], rows),
        "",
        "Speed-up of `Recognizer.predict` over the baseline, p50: " + "; ".join(speedups) + ".",
        "",
    ]


def whole(latency: dict) -> list[str]:
    """End-to-end p50 / p95, and mean CPU time."""
    return [p50_p95(latency), ms(latency, "cpu_mean")]


def stages(latency: dict) -> list[str]:
    return [p50_p95(latency[s]) for s in ("decode", "preprocess", "inference")]


def throughput_section(r: dict) -> list[str]:
    batch = [[size, f"{row['predict_batch_per_s']:.0f}", f"{row['inference_only_per_s']:.0f}"]
             for size, row in r["batch"].items()]
    threads = [[n, f"{row['per_thread_predict_per_s']:.0f}", f"{row['shared_lock_predict_per_s']:.0f}",
                f"{row['per_thread_inference_per_s']:.0f}", f"{row['shared_lock_inference_per_s']:.0f}"]
               for n, row in r["threads"].items()]
    return [
        "## Throughput (images/s)",
        "",
        "`predict_batch` on the 500 MNIST fixture digits (28x28, preprocessing included), and the "
        "interpreter alone on the same images already preprocessed:",
        "",
        *table(["batch size", "predict_batch", "interpreter only"], batch),
        "",
        "Threads: the Recognizer's interpreter per thread vs one interpreter behind a lock, "
        "predicting the 800x800 sketch end to end, and the interpreter alone:",
        "",
        *table(["threads", "per-thread: predict", "one + lock: predict", "per-thread: interpreter",
                "one + lock: interpreter"], threads),
        "",
        r["threads_verdict"],
        "",
    ]


def footprint_section(r: dict) -> list[str]:
    f, b = r["footprint"], r["baseline"]
    rows = [[f"serving: `recognizer` + LiteRT, models {', '.join(f['models'])}", f"{f['import_s']:.2f} s",
             f"{f['load_models_s']:.2f} s", mb(f["after_load"]["rss_mb"]), mb(f["after_serving"]["rss_mb"]),
             mb(f["after_serving"]["peak_rss_mb"])]]
    rows.append([f"baseline: TensorFlow + Keras, {b['model']}", f"{b['import_s']:.2f} s",
                 f"{b['load_model_s']:.2f} s", "", mb(b["memory"]["rss_mb"]), mb(b["memory"]["peak_rss_mb"])])
    return [
        "## Serving footprint",
        "",
        f"A fresh process that imports, loads every model and serves {f['predictions']} predictions (sketch "
        "and JPEG); TensorFlow imported in the serving process: "
        f"{'**yes**' if f['tensorflow_imported'] else 'no'}.",
        "",
        *table(["process", "import", "load models", "RSS after load", "RSS after serving", "peak RSS"], rows),
        "",
    ]


def models_section(r: dict) -> list[str]:
    rows = [[m["name"], m["arch"], f"{m['parameters']:,}" if m["parameters"] else "–", kb(m["float_bytes"]),
             kb(m["int8_bytes"]), m["test_set"], pct(m["float"]), pct(m["int8"]), pct(m["fixture"])]
            for m in r["models"]]
    return [
        "## Models: float Keras vs int8 TFLite",
        "",
        "Sizes: float32 weights (parameters x 4 bytes) vs the shipped .tflite file. Accuracy on the test "
        "set as the export measured it (models/<name>.json), and int8 re-measured here on the fixture sample "
        "(MNIST digits for `digits`, FEMNIST for the others), through `Recognizer.predict_batch`.",
        "",
        *table(["model", "arch", "parameters", "float32", "int8", "test set", "float acc.", "int8 acc.",
                "int8 on fixture"], rows),
        "",
    ]


def line_section(r: dict) -> list[str]:
    """Reading a 10-character line (issue 26), where the run had a line model to read with."""
    from benchmarks.lines import section

    lines = section(r.get("lines"))
    return [*lines, ""] if lines else []


def load_section(r: dict) -> list[str]:
    load = r.get("load")
    if not load:
        return ["## App under load", "", "Not run (`--skip-app`).", ""]
    return load_lines(load)


KIND_TITLES = {"gradio_rest": "Gradio `/predict` (REST: upload, call, stream)",
               "lean": "lean `POST /api/v1/predict`",
               "gradio_read": "Gradio `/read`, a 10-character line (REST)",
               "lean_read": "lean `POST /api/v1/read`, a 10-character line",
               "sketch": "sketchpad stroke (3 PNGs + event)"}


def load_lines(load: dict) -> list[str]:
    """The open-loop load test (benchmarks.load_test) as a Markdown section."""
    rows, errors, idle = [], [], []
    for run in load["runs"]:
        kind, app = KIND_TITLES.get(run["kind"], run["kind"]), run["app"]
        rss = mb(run["app_rss_start_mb"])
        idle.append(f"{run['kind']} ({app}) {100 * run['app_idle_cpu_share']:.0f}%")
        for lv in run["levels"]:
            lat = lv["latency_ms"]
            users = f"{lv['users']} ({lv['offered_per_s']:.0f}/s)"
            rows.append([kind, app, users, lv["requests"], lv["errors"],
                         *[ms(lat, q) for q in ("p50", "p95", "p99")], f"{lv['app_cpu_ms_per_request']:.1f}",
                         f"{lv['client_cpu_ms_per_request']:.1f}", f"{rss} → {mb(lv['app_rss_after_mb'])}"])
            rss = mb(lv["app_rss_after_mb"])
            if lv["first_error"]:
                errors.append(f"{run['kind']} ({app}), {lv['users']} users: {lv['first_error']}")
    return [
        "## App under load",
        "",
        "`python app.py` on this machine, a fresh one for each kind of request; N users, each sending one "
        f"request every {load['mean_gap_s']:.0f} s on average at random moments (Poisson arrivals, open "
        f"loop: latency counts from when a request fell due), {load['seconds_per_level']:.0f} s per level, "
        "with an 800x800 canvas PNG of a real pen 7 (a stroke: the app's 1200x400 sketchpad's three PNGs; "
        "`/read`: a 1200x400 canvas PNG of a 10-character line). "
        "Latency in ms. CPU time per request of the app and of the load generator (on the same cores). "
        "App RSS before and after each level. `python -m benchmarks.load_test --help` says more.",
        "",
        "The app's CPU time per request includes what it spends idle, as a share of a core: "
        + ", ".join(idle) + ".",
        "",
        *table(["request", "app", "users (offered)", "requests", "errors", "p50", "p95", "p99",
                "app CPU ms/request", "client CPU ms/request", "app RSS"], rows),
        "",
        *(["First errors: " + "; ".join(errors), ""] if errors else []),
    ]
