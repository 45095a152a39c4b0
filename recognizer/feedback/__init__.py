"""User feedback: stored durably on this machine, synced to Google Sheets when configured.

    from recognizer.feedback import FeedbackService, InvalidLabelError
    service = FeedbackService.from_env()
    record_id = service.submit(model_name, model_sha256, labels, prediction, correct, correct_label, image)
    record_id = service.submit_line(reader_name, line_model_sha256, reading, correct, correct_text, image)

``python -m recognizer.feedback export --format npz OUT`` turns the collected
feedback into a training set (see ``training/retrain.py``). Set-up: docs/feedback.md.
"""

from recognizer.feedback.record import FeedbackRecord
from recognizer.feedback.service import FeedbackService, InvalidLabelError
from recognizer.feedback.store import FeedbackStore

__all__ = ["FeedbackRecord", "FeedbackService", "FeedbackStore", "InvalidLabelError"]
