"""Score the alerts of a store against a ground-truth label file (the simulator's).

A label is ``(rule, battery, enterprise)``; so is an alert the latest evaluation still finds.
Per rule: true positives are pairs in both, precision = TP / alerts, recall = TP / labels.
Rules without labels (nothing of the kind was injected) get no precision: their alerts are
counted and listed apart, not scored.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from battrace.errors import ValidationError
from battrace.simulate.violations import read_labels
from battrace.store.base import Store
from battrace.supervision.alerts import iter_alerts


@dataclass(frozen=True, slots=True)
class RuleScore:
    rule: str
    labels: int
    alerts: int
    true_positives: int

    @property
    def precision(self) -> float | None:
        return self.true_positives / self.alerts if self.alerts else None

    @property
    def recall(self) -> float | None:
        return self.true_positives / self.labels if self.labels else None

    def to_dict(self) -> dict[str, Any]:
        return {
            "rule": self.rule,
            "labels": self.labels,
            "alerts": self.alerts,
            "true_positives": self.true_positives,
            "precision": self.precision,
            "recall": self.recall,
        }


@dataclass(slots=True)
class ScoreReport:
    scores: list[RuleScore] = field(default_factory=list)
    unlabelled: dict[str, int] = field(default_factory=dict)  # rule -> alerts, no labels

    def to_dict(self) -> dict[str, Any]:
        return {
            "rules": [s.to_dict() for s in self.scores],
            "unlabelled_alerts": dict(sorted(self.unlabelled.items())),
        }

    def worst(self) -> float | None:
        """The lowest precision or recall over the scored rules."""
        values = [v for s in self.scores for v in (s.precision, s.recall) if v is not None]
        return min(values) if values else None


def score(labels: set[tuple[str, str, str]], alerts: set[tuple[str, str, str]]) -> ScoreReport:
    """Score ``alerts`` against ``labels`` (both sets of (rule, battery, enterprise))."""
    report = ScoreReport()
    labelled = sorted({r for r, _, _ in labels})
    for rule in labelled:
        truth = {x for x in labels if x[0] == rule}
        found = {x for x in alerts if x[0] == rule}
        report.scores.append(RuleScore(rule, len(truth), len(found), len(truth & found)))
    for rule, _, _ in alerts:
        if rule not in labelled:
            report.unlabelled[rule] = report.unlabelled.get(rule, 0) + 1
    return report


def score_alerts(store: Store, labels_path: str | Path) -> ScoreReport:
    """Score the store's current alerts against the labels CSV at ``labels_path``."""
    path = Path(labels_path)
    try:
        with path.open(encoding="utf-8", newline="") as stream:
            rows = read_labels(stream)
    except OSError as exc:
        raise ValidationError(
            f"labels: cannot read {path}: {exc.strerror}", field="labels", rule="readable"
        ) from None
    except (KeyError, TypeError):
        raise ValidationError(
            f"labels: {path} is not a label file (columns rule,battery,enterprise,...)",
            field="labels",
            rule="label_columns",
        ) from None
    truth = {(r.rule, r.battery, r.enterprise) for r in rows}
    found = {(a.rule, a.battery or "", a.enterprise or "") for a in iter_alerts(store) if a.found}
    return score(truth, found)
