import time, statistics
import pytest
from django.urls import reverse
from django.template.base import Template
from django.test import utils as tu
pytestmark = pytest.mark.django_db

def run(client, url, n=200):
    inner = client.handler
    hs=[]; ts=[]
    def timed(environ):
        t=time.perf_counter(); r=inner(environ); hs.append(time.perf_counter()-t); return r
    client.handler = timed
    for _ in range(n):
        t=time.perf_counter(); client.get(url); ts.append(time.perf_counter()-t)
    client.handler = inner
    return statistics.median(ts[20:])*1000, statistics.median(hs[20:])*1000

def test_overhead(client, bench_data):
    from stakeholders.models import User
    for label, url, login in [("login", reverse("login"), False), ("home", reverse("home"), True), ("healthz", reverse("healthz"), False)]:
        if login: client.force_login(User.objects.get(pk=bench_data.social_worker.pk))
        a = run(client, url)
        saved = Template._render
        Template._render = tu._TestState.saved_data.template_render
        b = run(client, url)
        Template._render = saved
        print(f"\n{label}: instrumented client={a[0]:.2f} handler={a[1]:.2f}; uninstrumented client={b[0]:.2f} handler={b[1]:.2f}")
