import pytest

import livewidget as lw
from livewidget.template import Comprehension, TemplateError, parse


def test_fields_split_statics_from_dynamics():
    rendered = lw.html("<h2>{n}</h2><p>{label}</p>", n=3, label="x")
    assert rendered.statics == ("<h2>", "</h2><p>", "</p>")
    assert rendered.dynamics == ("3", "x")


def test_text_is_escaped_for_text_and_quoted_attributes():
    rendered = lw.html('<a title="{t}">{t}</a>', t="\"><script>'&")
    assert str(rendered) == (
        '<a title="&#34;&gt;&lt;script&gt;&#39;&amp;">&#34;&gt;&lt;script&gt;&#39;&amp;</a>'
    )


def test_none_and_false_render_nothing_but_zero_renders():
    assert str(lw.html("[{a}{b}{c}]", a=None, b=False, c=0)) == "[0]"


def test_markup_is_trusted_as_is():
    assert str(lw.html("{x}", x=lw.Markup("<br>"))) == "<br>"


def test_format_specs_conversions_and_lookups():
    rendered = lw.html(
        "{n:,.2f} {s!r} {user.name} {items[1]} {d[k]}",
        n=1234.5,
        s="<",
        user=type("U", (), {"name": "Ada"})(),
        items=["a", "b"],
        d={"k": "v"},
    )
    assert str(rendered) == "1,234.50 &#39;&lt;&#39; Ada b v"


def test_nested_templates_and_lists_nest():
    inner = lw.html("<li>{x}</li>", x="<a>")
    rendered = lw.html("<ul>{items}</ul>", items=[inner, inner])
    assert str(rendered) == "<ul><li>&lt;a&gt;</li><li>&lt;a&gt;</li></ul>"
    assert isinstance(rendered.dynamics[0], Comprehension)


def test_generators_and_lists_of_strings_are_escaped_comprehensions():
    rendered = lw.html("<p>{xs}</p>", xs=(s for s in ["<a>", "b"]))
    assert str(rendered) == "<p>&lt;a&gt;b</p>"


def test_templates_are_parsed_once_per_source():
    assert lw.html("<b>{x}</b>", x=1).template is lw.html("<b>{x}</b>", x=2).template


def test_literal_braces_are_written_doubled():
    assert str(lw.html("{{x}} {x}", x=1)) == "{x} 1"


def test_a_missing_value_names_the_field_and_the_values_given():
    with pytest.raises(TemplateError, match=r"uses \{count\} but no value named 'count'.*given: n"):
        lw.html("<b>{count}</b>", n=1)


def test_positional_fields_are_refused_with_a_fix():
    with pytest.raises(TemplateError, match="fields must be named"):
        lw.html("<b>{}</b>")


def test_bad_syntax_says_how_to_write_a_brace():
    with pytest.raises(TemplateError, match="Write a literal brace"):
        parse("<b>{x</b>")


def test_css_braces_fail_with_a_hint_about_doubling_them():
    with pytest.raises(TemplateError, match=r"no value named 'color'.*literal brace"):
        lw.html("<style>a {color: red}</style>")


def test_a_spec_on_a_list_is_an_error():
    with pytest.raises(TemplateError, match="applies to a single value"):
        lw.html("{xs:>3}", xs=[1, 2])


def test_each_refuses_duplicate_keys_and_non_templates():
    with pytest.raises(TemplateError, match="appears twice"):
        lw.each([1, 1], lambda x: lw.html("{x}", x=x), key=lambda x: x)
    with pytest.raises(TemplateError, match=r"must return lw\.html"):
        lw.each([1], lambda x: f"<b>{x}</b>", key=lambda x: x)  # type: ignore[arg-type, return-value]


def test_renders_of_the_same_template_and_values_are_equal():
    assert lw.html("<b>{x}</b>", x=1) == lw.html("<b>{x}</b>", x=1)
    assert lw.html("<b>{x}</b>", x=1) != lw.html("<i>{x}</i>", x=1)
