"""The GW pipeline's handlers: G-events and GCN notices become DAGs.

- A CBC G-event (with ``SingleInspiral`` rows): ``localize`` → ``superevent`` →
  ``coinc`` → ``alert``; other G-events skip ``localize``.
- A GCN notice: ``external`` → ``coinc`` → ``alert`` (a joint alert for the
  superevent it is associated with, if any).
"""

from __future__ import annotations

from ..pipeline.external import classify_notice
from .plans import Plan, PlanNode
from .registry import AlertInput, SkipAlert, handler


def _alert_options(alert: AlertInput) -> tuple[str, ...]:
    options = ("--second-after", f"{float(alert.options.get('second_alert_delay', 270)):g}")
    if alert.options.get("alert_stream"):
        options += ("--stream", str(alert.options["alert_stream"]))
    return options

__all__ = ["plan_gevent", "plan_notice"]


@handler("igwn_alert")
def plan_gevent(alert: AlertInput) -> Plan | None:
    if alert.fields.get("object_type") != "event" or \
            alert.fields.get("alert_type") not in ("new", "update"):
        return None
    root = str(alert.root)
    event = str(alert.input_path)
    graceid = str(alert.fields.get("graceid"))
    plan = Plan(alert.key, f"G-event {graceid}")
    nodes = []
    superevent_args = ["superevent", "--root", root, "--event", event]
    if alert.fields.get("group") == "CBC" and alert.fields.get("snr") is not None:
        skymap = str(alert.input_path.parent / "skymap.fits")
        nodes.append(PlanNode("localize", "localize", ("localize", "--event", event,
                                                      "--out", skymap)))
        superevent_args += ["--skymap", skymap]
    nodes.append(PlanNode("superevent", "superevent", tuple(superevent_args), retries=2))
    nodes.append(PlanNode("coinc", "coinc", ("coinc", "--root", root, "--event-id",
                                             graceid), retries=2))
    nodes.append(PlanNode("alert", "alert", ("alert", "--root", root, "--event-id",
                                             graceid, *_alert_options(alert)), retries=2))
    return plan.chain(*nodes)


@handler("voevent", "gcn_json")
def plan_notice(alert: AlertInput) -> Plan | None:
    # Notices that are not external triggers (LVK's own, noise, no trigger id)
    # get no run: the planner records them as skipped with this reason.
    decision = classify_notice(alert.fields, alert.trigger_gps, alert.role)
    if decision.trigger is None:
        raise SkipAlert(decision.reason)
    root = str(alert.root)
    notice = str(alert.input_path)
    plan = Plan(alert.key, f"GCN notice {alert.fields.get('mission', '')} "
                           f"{alert.fields.get('trigger_id', '')}")
    return plan.chain(
        PlanNode("external", "external", ("external", "--root", root, "--notice", notice),
                 retries=2),
        PlanNode("coinc", "coinc", ("coinc", "--root", root, "--notice", notice), retries=2),
        PlanNode("alert", "alert", ("alert", "--root", root, "--notice", notice,
                                    *_alert_options(alert)), retries=2))
