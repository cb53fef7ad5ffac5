"""The Jinja2 engine for hot fragments (core/jinja.py): escaped, localized, translated, and
its strings reach the catalogues (issue 23)."""

from datetime import UTC, datetime
from decimal import Decimal

from django.template import Context, engines
from django.template import Template as DjangoTemplate
from django.test import override_settings
from django.utils import translation
from markupsafe import Markup

from core.jinja import fragment
from core.management.commands.makemessages import JinjaBuildFile


def _render(source, **context):
    return engines["jinja2"].env.from_string(source).render(context)


def test_values_are_escaped_and_markup_is_not_escaped_twice():
    inner = Markup(_render("<i>{{ t }}</i>", t="&"))  # noqa: S704 (as fragment() does)
    html = _render("<b>{{ name }}</b>{{ inner }}", name="<script>x</script>", inner=inner)
    assert html == "<b>&lt;script&gt;x&lt;/script&gt;</b><i>&amp;</i>"


def test_a_fragment_prints_unescaped_in_a_django_page_and_its_values_escaped(tmp_path):
    env = engines["jinja2"].env
    env.loader.searchpath.insert(0, str(tmp_path))
    (tmp_path / "probe.jinja").write_text('<span title="{{ v }}">{{ v }}</span>')
    try:
        part = fragment("probe.jinja", v='a"<b>')
        page = DjangoTemplate("<div>{{ part }}</div>").render(Context({"part": part}))
    finally:
        env.loader.searchpath.remove(str(tmp_path))
    assert page == '<div><span title="a&#34;&lt;b&gt;">a&#34;&lt;b&gt;</span></div>'


def test_translated_and_localized_like_django_templates():
    with translation.override("zh-hans"):
        assert _render('{{ _("Patient") }}') == "患者"
        assert _render("{{ v|localize }}", v=Decimal("1.50")) == "1.50"
    with translation.override("en"):
        assert _render('{{ _("Patient") }}') == "Patient"


@override_settings(TIME_ZONE="Europe/London")
def test_when_shows_the_ward_time_in_a_dst_zone():
    from django.utils import timezone

    summer = datetime(2026, 7, 1, 11, 30, tzinfo=UTC)
    winter = datetime(2026, 1, 1, 11, 30, tzinfo=UTC)
    with timezone.override("Europe/London"):
        assert _render('{{ t|when("Y-m-d H:i") }}', t=summer) == "2026-07-01 12:30"
        assert _render('{{ t|when("Y-m-d H:i") }}', t=winter) == "2026-01-01 11:30"
    with timezone.override("Asia/Shanghai"):
        assert _render('{{ t|when("H:i") }}', t=winter) == "19:30"


def test_makemessages_reads_the_strings_of_a_jinja_template(tmp_path):
    source = tmp_path / "x.jinja"
    source.write_text(
        '<p>it\'s {{ _("Weight %(kg)s kg", kg=w) }}</p>\n'
        '{{ ngettext("%(num)s dose", "%(num)s doses", n) }}\n'
        '{{ pgettext("infusion", "Start") }} {{ _(name) }}\n'
    )

    class Translatable:
        file, dirpath = "x.jinja", str(tmp_path)
        path = str(source)

    build = JinjaBuildFile(command=None, domain="django", translatable=Translatable())
    build.preprocess()
    lines = open(build.work_path, encoding="utf-8").read().splitlines()
    assert lines[0].strip() == "gettext('Weight %(kg)s kg');"
    assert lines[1].strip() == "ngettext('%(num)s dose', '%(num)s doses');"
    assert lines[2].strip() == "pgettext('infusion', 'Start');"  # _(name): nothing to extract
