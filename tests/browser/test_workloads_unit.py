"""static/js/workloads.js's pure helpers on their own, in the browser."""
from __future__ import annotations

import pytest

pytestmark = pytest.mark.services


def test_the_census_says_one_daemonset_not_one_daemonsets(page, browser_server):
    page.goto(browser_server.base + "/static/js/workloads.js")  # same origin, no page scripts
    text = page.evaluate("""async () => {
      const { summaryText } = await import('/static/js/workloads.js');
      return [summaryText({deployments: 5, daemonsets: 1, statefulsets: 1, jobs: 2, hpas: 1, cronjobs: 0}),
              summaryText(undefined)];
    }""")
    assert text == ["5 Deployments · 1 DaemonSet · 1 StatefulSet · 2 Jobs · 1 HorizontalPodAutoscaler", ""]
