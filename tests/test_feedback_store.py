"""The local feedback store: what a record holds, label checks, concurrency, crash safety, export."""

from __future__ import annotations

import base64
import csv
import logging
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import uuid
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import pytest

from feedback_helpers import digits, line_sample, samples, submit, text_reader, wrong_label
from helpers import disc, load_unipen_sample, sketchpad_value
from recognizer import Recognizer
from recognizer.feedback import FeedbackService, FeedbackStore, InvalidLabelError
from recognizer.feedback import service as service_module
from recognizer.feedback.__main__ import main as feedback_cli
from recognizer.feedback.export import load_arrays
from recognizer.feedback.record import COLUMNS, LINE_ORIGINAL_MAX_SIDE, decode_png
from recognizer.feedback.service import MAX_LINE_LENGTH, feedback_dir
from recognizer.feedback.store import FILENAME, SCHEMA
from recognizer.image_io import load_image
from recognizer.preprocess import to_model_input
from training.data.unipen import draw_strokes

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def service(tmp_path):
    service = FeedbackService.from_env({"HWR_FEEDBACK_DIR": str(tmp_path)})
    yield service
    service.close()


def test_a_record_holds_everything_needed_to_learn_from_it(service, tmp_path):
    prediction, drawing = samples()[0]
    model = digits()
    label = wrong_label(prediction)
    record_id = service.submit(model.name, model.sha256, model.labels, prediction, False, label, drawing)

    (record,) = FeedbackStore(tmp_path).records()
    assert record.id == record_id and uuid.UUID(record_id).version == 4
    assert abs(datetime.fromisoformat(record.created_at) - datetime.now().astimezone()) < timedelta(minutes=1)
    assert datetime.fromisoformat(record.created_at).utcoffset() == timedelta(0)
    assert (record.model, record.model_sha256) == ("digits", model.sha256)
    assert (record.predicted, record.confidence) == (prediction.label, pytest.approx(prediction.confidence))
    assert record.top_k == [(k, pytest.approx(p)) for k, p in prediction.top_k]
    assert (record.correct, record.correct_label) == (False, label)
    np.testing.assert_array_equal(decode_png(record.model_input_png), prediction.model_input)
    original = decode_png(record.original_png)
    assert original.shape == (256, 256, 4)  # the 280x280 drawing, shrunk
    assert original[..., 3].max() == 255  # the ink survived
    assert service.status() == {"stored": 1, "pending": 1, "parked": 0, "sheets": "disabled",
                                "last_error": None, "last_sync": None}


def test_correct_needs_no_label_and_ignores_one(service):
    submit(service, 0, correct=True, label=None)
    submit(service, 1, correct=True, label="anything")
    records = list(service.store.records())
    assert [r.correct_label for r in records] == [samples()[0][0].label, samples()[1][0].label]
    assert all(r.correct for r in records)


@pytest.mark.parametrize("image", [
    np.full((30, 40), 255, np.uint8),
    np.zeros((3000, 1000, 3), np.uint8),
    np.zeros((600, 600, 4), np.uint8),
    None,
])
def test_original_images_of_every_shape_are_kept_small(service, image):
    prediction, _ = samples()[0]
    model = digits()
    service.submit(model.name, model.sha256, model.labels, prediction, True, None, image)
    (record,) = service.store.records()
    if image is None:
        assert record.original_png is None
    else:
        kept = decode_png(record.original_png)
        assert max(kept.shape[:2]) == min(256, max(image.shape[:2]))
        assert kept.shape[2:] == image.shape[2:]


@pytest.mark.parametrize("label, message", [
    (None, "type the correct character"),
    ("  ", "type the correct character"),
    ("x", "“x” is not a character this model knows. Type one of 0-9."),
    ("10", "“10” is not a character"),
    ('=HYPERLINK("http://x")', "That is not a character this model knows"),
])
def test_bad_labels_are_refused_with_a_message_for_the_user(service, label, message):
    prediction, drawing = samples()[0]
    model = digits()
    with pytest.raises(InvalidLabelError) as e:
        service.submit(model.name, model.sha256, model.labels, prediction, False, label, drawing)
    assert isinstance(e.value, ValueError)
    assert message in str(e.value)
    assert service.status()["stored"] == 0


def test_a_wrong_guess_cannot_be_corrected_to_itself(service):
    with pytest.raises(InvalidLabelError, match="same character"):
        submit(service, 0, correct=False, label=samples()[0][0].label)


def test_labels_are_trimmed(service):
    label = wrong_label(samples()[0][0])
    submit(service, 0, correct=False, label=f"  {label}\n")
    assert next(service.store.records()).correct_label == label


def test_disabled_sheets_is_one_line_notice(tmp_path, caplog):
    with caplog.at_level(logging.INFO, logger="recognizer.feedback"):
        FeedbackService.from_env({"HWR_FEEDBACK_DIR": str(tmp_path)}).close()
    (notice,) = [r.getMessage() for r in caplog.records]
    assert "disabled" in notice and "\n" not in notice


@pytest.fixture
def spaces_data(tmp_path, monkeypatch):
    """A stand-in for the /data folder where Hugging Face Spaces mounts persistent storage."""
    data = tmp_path / "data"
    data.mkdir()
    monkeypatch.setattr(service_module, "SPACES_DATA", data)
    (tmp_path / "app").mkdir()
    monkeypatch.chdir(tmp_path / "app")  # the fallback, ./data/feedback, lands in here
    return data


def test_on_a_space_with_persistent_storage_feedback_goes_under_data(spaces_data, caplog):
    with caplog.at_level(logging.INFO, logger="recognizer.feedback"):
        service = FeedbackService.from_env({})
    record_id = submit(service, 0)
    service.close()
    assert service.store.directory == spaces_data / "feedback"
    assert [r.id for r in FeedbackStore(spaces_data / "feedback").records()] == [record_id]
    (where,) = [r for r in caplog.records if "storing feedback in" in r.getMessage()]
    assert where.levelno == logging.INFO
    assert str(spaces_data / "feedback") in where.getMessage() and "persistent storage" in where.getMessage()


def test_hwr_feedback_dir_wins_over_data(spaces_data, tmp_path, caplog):
    chosen = tmp_path / "chosen"
    with caplog.at_level(logging.INFO, logger="recognizer.feedback"):
        FeedbackService.from_env({"HWR_FEEDBACK_DIR": str(chosen)}).close()
    assert (chosen / FILENAME).exists() and not (spaces_data / "feedback").exists()
    assert not [r for r in caplog.records if "storing feedback in" in r.getMessage()]


def test_without_data_feedback_stays_in_the_working_folder(spaces_data, tmp_path, caplog):
    spaces_data.rmdir()
    assert feedback_dir({})[0] == Path("data/feedback")
    with caplog.at_level(logging.INFO, logger="recognizer.feedback"):
        FeedbackService.from_env({}).close()
        FeedbackService.from_env({"SPACE_ID": "someone/handwriting"}).close()
    assert (tmp_path / "app" / "data" / "feedback" / FILENAME).exists() and not spaces_data.exists()
    plain, space = [r for r in caplog.records if "storing feedback in" in r.getMessage()]
    assert plain.levelno == logging.INFO and "data/feedback" in plain.getMessage()
    assert space.levelno == logging.WARNING and "lost when it restarts" in space.getMessage()


def test_the_data_root_can_be_given(tmp_path):
    assert feedback_dir({}, data_root=tmp_path)[0] == tmp_path / "feedback"
    assert feedback_dir({}, data_root=tmp_path / "missing")[0] == Path("data/feedback")
    assert feedback_dir({"HWR_FEEDBACK_DIR": "x"}, data_root=tmp_path) == (Path("x"), None)


def test_the_command_line_reads_the_same_folder(spaces_data, monkeypatch, capsys):
    monkeypatch.delenv("HWR_FEEDBACK_DIR", raising=False)
    service = FeedbackService.from_env({})
    submit(service, 0)
    service.close()
    assert feedback_cli(["status"]) == 0
    path = spaces_data / "feedback" / FILENAME
    assert f'"stored": 1, "pending": 1, "parked": 0, "path": "{path}"' in capsys.readouterr().out


def test_many_threads_share_one_store(service):
    ids: list[str] = []

    def client(k: int):
        for i in range(25):
            ids.append(submit(service, k * 25 + i, correct=bool(i % 2)))

    threads = [threading.Thread(target=client, args=(k,)) for k in range(8)]
    [t.start() for t in threads]
    [t.join() for t in threads]
    assert len(set(ids)) == 200
    assert {r.id for r in service.store.records()} == set(ids)
    assert service.status()["stored"] == 200


WRITER = """
import sys
sys.path[:0] = [{root!r}, {tests!r}]
from feedback_helpers import submit
from recognizer.feedback import FeedbackService
service = FeedbackService.from_env({{"HWR_FEEDBACK_DIR": {directory!r}}})
for i in range({count}):
    print(submit(service, i), flush=True)  # printed only once the record is durable
"""


def writer(directory: Path, count: int) -> subprocess.Popen:
    code = WRITER.format(root=str(ROOT), tests=str(ROOT / "tests"), directory=str(directory), count=count)
    return subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)


def test_two_processes_write_to_the_same_store(tmp_path):
    procs = [writer(tmp_path, 60) for _ in range(2)]
    outputs = [p.communicate(timeout=120)[0].split() for p in procs]
    assert [p.returncode for p in procs] == [0, 0]
    ids = outputs[0] + outputs[1]
    assert len(set(ids)) == 120
    assert {r.id for r in FeedbackStore(tmp_path).records()} == set(ids)


def test_a_killed_writer_loses_nothing_it_acknowledged(tmp_path):
    proc = writer(tmp_path, 100_000)
    acknowledged = [proc.stdout.readline().strip() for _ in range(150)]
    proc.send_signal(signal.SIGKILL)  # mid-write, very likely: it writes in a tight loop
    acknowledged += proc.stdout.read().split()  # whatever it acknowledged before dying
    proc.wait(timeout=30)

    db = sqlite3.connect(tmp_path / FILENAME)
    assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    db.close()
    store = FeedbackStore(tmp_path)
    stored = {r.id for r in store.records()}
    assert set(acknowledged) <= stored
    assert len(stored) - len(acknowledged) <= 1  # at most the one being written when killed
    submit(FeedbackService(store), 0)  # and the store still takes new records
    assert store.count() == len(stored) + 1


def test_export_npz_is_a_training_set(service, tmp_path):
    ids = [submit(service, i, correct=i % 3 == 0) for i in range(12)]
    out = tmp_path / "feedback.npz"
    assert feedback_cli(["--dir", str(tmp_path), "export", "--format", "npz", str(out)]) == 0
    data = np.load(out)
    assert data["x"].dtype == np.uint8 and data["x"].shape == (12, 28, 28)
    assert list(data["id"]) == ids
    records = list(service.store.records())
    assert list(data["y"]) == [r.correct_label for r in records]
    assert set(data["model"]) == {"digits"}
    for x, (prediction, _) in zip(data["x"], samples()[:12], strict=True):
        np.testing.assert_array_equal(x, prediction.model_input)

    assert feedback_cli(["--dir", str(tmp_path), "export", "--model", "letters", str(out)]) == 0
    assert np.load(out)["x"].shape == (0, 28, 28)


def test_export_csv_has_one_row_a_record(service, tmp_path):
    ids = [submit(service, i) for i in range(5)]
    out = tmp_path / "feedback.csv"
    command = [sys.executable, "-m", "recognizer.feedback", "export", "--format", "csv", str(out)]
    result = subprocess.run(command, cwd=ROOT, env={**os.environ, "HWR_FEEDBACK_DIR": str(tmp_path)},
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    with open(out, newline="") as f:
        rows = list(csv.reader(f))
    assert rows[0] == COLUMNS
    assert [r[0] for r in rows[1:]] == ids
    first = dict(zip(COLUMNS, rows[1], strict=True))
    np.testing.assert_array_equal(decode_png(base64.b64decode(first["model_input_png_base64"])),
                                  samples()[0][0].model_input)


def test_a_store_from_before_parking_is_upgraded_and_requeue_works(service, tmp_path, capsys):
    """Stores written before records could be parked gain the columns on open; the CLI lists
    parked records and puts them back in the outbox."""
    ids = [submit(service, i) for i in range(3)]
    service.close()
    with sqlite3.connect(tmp_path / FILENAME) as db:  # the schema as the first release wrote it
        db.execute("ALTER TABLE feedback DROP COLUMN park_reason")
        db.execute("ALTER TABLE feedback DROP COLUMN parked_at")

    store = FeedbackStore(tmp_path)
    assert store.pending_count() == 3 and store.parked() == []
    store.park(ids[1], "APIError: [400]: Injected failure")
    assert store.pending_count() == 2 and [r.id for r, _ in store.pending(10)] == [ids[0], ids[2]]
    store.close()

    assert feedback_cli(["--dir", str(tmp_path), "status"]) == 0
    out = capsys.readouterr().out
    assert '"pending": 2, "parked": 1' in out and f"parked {ids[1]}: APIError: [400]" in out
    assert feedback_cli(["--dir", str(tmp_path), "requeue"]) == 0
    store = FeedbackStore(tmp_path)
    assert store.pending_count() == 3 and store.parked() == [] and store.count() == 3
    store.close()


HOLDER = """
import sqlite3, sys, time
db = sqlite3.connect(sys.argv[1], isolation_level=None)
db.execute("BEGIN IMMEDIATE")
db.execute("CREATE TABLE IF NOT EXISTS other (a)")
print("holding", flush=True)
time.sleep(1.0)
db.execute("COMMIT")
"""


def test_a_new_store_waits_for_another_process_that_is_writing(tmp_path):
    """While another process holds the write lock of a store that is not in WAL mode yet,
    switching to WAL fails at once with "database is locked" (SQLite skips its busy
    timeout there). Two app processes starting together hit this in CI; opening must wait."""
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(tmp_path / FILENAME)], stdout=subprocess.PIPE, text=True
    )
    assert holder.stdout.readline().strip() == "holding"
    store = FeedbackStore(tmp_path)  # raised sqlite3.OperationalError before the fix
    assert holder.wait(timeout=30) == 0
    assert list(store.records()) == []


def test_an_i_whose_dot_the_model_left_out_is_kept_with_its_dot(service, tmp_path):
    """A letter with a speck above it, read without the speck: feedback that it is an i stores the
    reading with the speck as the dot, so retraining does not learn a bare stem as an i. Any other
    label stores what the model read."""
    letters = Recognizer.load("letters")
    s = next(s for s in load_unipen_sample() if s["label"] == "c")
    alpha = draw_strokes(s["strokes"], s["y_up"], (800, 800), 200, (400, 500), 12).copy()
    disc(alpha, (np.flatnonzero(alpha.any(1))[0] - 100, 400), 6, 255)
    drawing = sketchpad_value(alpha)
    prediction = letters.predict(drawing)
    assert prediction.dotted_input is not None  # read without the speck
    with_dot = to_model_input(load_image(drawing), keep_dots=True)
    assert not np.array_equal(with_dot, prediction.model_input)

    for label in ("i", "c"):
        correct = label == prediction.label
        service.submit("letters", letters.sha256, letters.labels, prediction, correct, label, alpha)
    stored = [decode_png(r.model_input_png) for r in FeedbackStore(tmp_path).records()]
    np.testing.assert_array_equal(stored[0], with_dot)
    np.testing.assert_array_equal(stored[1], prediction.model_input)


# -- feedback on whole lines ---------------------------------------------------------------------


def test_a_line_record_holds_the_reading_the_text_and_the_line_image(service, tmp_path):
    reading, drawing, text = line_sample(2)  # a digit string, 1203 pixels wide as drawn
    sha = text_reader("digits").sha256
    record_id = service.submit_line("digits", sha, reading, False, " 94  62\t315 ", drawing)

    (record,) = FeedbackStore(tmp_path).records()
    assert record.id == record_id
    assert (record.model, record.reader, record.model_sha256) == ("lines", "digits", sha)
    assert (record.predicted, record.confidence) == (reading.text, pytest.approx(reading.confidence))
    assert record.top_k == [(reading.text, pytest.approx(reading.confidence))]
    assert (record.correct, record.correct_label) == (False, "94 62 315")  # tidied: single spaces
    np.testing.assert_array_equal(decode_png(record.model_input_png), reading.model_input)
    original = decode_png(record.original_png)
    assert original.shape[1] == LINE_ORIGINAL_MAX_SIDE and original.shape[2] == 4  # wide, still legible
    assert original.shape[0] == round(drawing.shape[0] * LINE_ORIGINAL_MAX_SIDE / drawing.shape[1])
    assert original[..., 3].max() == 255

    service.submit_line("digits", sha, reading, True, "ignored", None)
    right = list(service.store.records())[1]
    assert (right.correct, right.correct_label, right.original_png) == (True, reading.text, None)
    assert service.status()["stored"] == 2


@pytest.mark.parametrize("reader, text, message", [
    ("digits", None, "type the correct text"),
    ("digits", "   ", "type the correct text"),
    ("digits", "12a4!", "“a” “!” are not characters this model reads. Type only 0-9 and spaces."),
    ("letters", "route 66", "“6” is not a character this model reads. Type only A-Z, a-z and spaces."),
    ("characters", "=1+2", "“=” “+” are not characters this model reads. Type only 0-9, A-Z, a-z and"),
    ("characters", "-5", "“-” is not a character"),
    ("digits", "1" * (MAX_LINE_LENGTH + 1), f"{MAX_LINE_LENGTH + 1} characters long; the line model reads at "
                                            f"most {MAX_LINE_LENGTH}"),
])
def test_bad_line_texts_are_refused_with_a_message_for_the_user(service, reader, text, message):
    reading, drawing, _ = line_sample(0, reader)
    with pytest.raises(InvalidLabelError) as e:
        service.submit_line(reader, "sha", reading, False, text, drawing)
    assert message in str(e.value)
    assert service.status()["stored"] == 0


def test_a_wrong_line_cannot_be_corrected_to_itself(service):
    reading, drawing, _ = line_sample(0)
    with pytest.raises(InvalidLabelError, match="same text"):
        service.submit_line("digits", "sha", reading, False, f"  {reading.text} ", drawing)
    service.submit_line("digits", "sha", reading, False, f"{reading.text}1", drawing)  # not the same text
    assert service.status()["stored"] == 1


def test_lines_are_exported_on_their_own_and_characters_as_before(service, tmp_path, capsys):
    digit_ids = [submit(service, i) for i in range(3)]
    readings = [line_sample(k) for k in range(4)]
    line_ids = [service.submit_line("digits", "sha", r, False, text + "0", d) for r, d, text in readings]
    records = {r.id: r for r in service.store.records()}

    out = tmp_path / "lines.npz"
    assert feedback_cli(["--dir", str(tmp_path), "export", "--model", "lines", str(out)]) == 0
    data = dict(np.load(out))
    widths = [r.model_input.shape[1] for r, _, _ in readings]
    assert data["x"].dtype == np.uint8 and data["x"].shape == (4, 32, max(widths))
    assert list(data["width"]) == widths and list(data["id"]) == line_ids
    assert list(data["y"]) == [text + "0" for _, _, text in readings]
    assert list(data["predicted"]) == [r.text for r, _, _ in readings]
    assert set(data["model"]) == {"lines"} and set(data["reader"]) == {"digits"} and not data["correct"].any()
    for x, width, (reading, _, _) in zip(data["x"], data["width"], readings, strict=True):
        np.testing.assert_array_equal(x[:, :width], reading.model_input)
        assert not x[:, width:].any()  # padded with background
    for source in (tmp_path, out):  # a data folder or the export: the same arrays
        loaded = load_arrays(source, "lines")
        assert set(loaded) == set(data)
        for key in data:
            np.testing.assert_array_equal(loaded[key], data[key])

    everything = tmp_path / "all.npz"  # the single characters' export, as before: lines left out
    assert feedback_cli(["--dir", str(tmp_path), "export", "--format", "npz", str(everything)]) == 0
    assert "left out 4 records on lines" in capsys.readouterr().out
    chars = np.load(everything)
    assert chars["x"].shape == (3, 28, 28) and list(chars["id"]) == digit_ids and "width" not in chars.files
    assert list(load_arrays(tmp_path)["id"]) == digit_ids

    table = tmp_path / "all.csv"  # CSV holds both, in the Sheets layout
    assert feedback_cli(["--dir", str(tmp_path), "export", "--format", "csv", str(table)]) == 0
    with open(table, newline="") as f:
        rows = [dict(zip(COLUMNS, row, strict=True)) for row in list(csv.reader(f))[1:]]
    assert [row["id"] for row in rows] == list(records)
    line_row = rows[3]
    assert line_row["model"] == "lines/digits" and line_row["correct_label"] == readings[0][2] + "0"
    np.testing.assert_array_equal(decode_png(base64.b64decode(line_row["model_input_png_base64"])),
                                  readings[0][0].model_input)


def test_a_store_from_before_lines_gains_the_reader_column(tmp_path):
    db = sqlite3.connect(tmp_path / FILENAME)
    db.executescript(SCHEMA.replace(",\n    reader TEXT", ""))
    db.close()
    store = FeedbackStore(tmp_path)
    reading, drawing, _ = line_sample(0)
    FeedbackService(store).submit_line("digits", "sha", reading, True, None, drawing)
    assert next(store.records()).reader == "digits"
