import pytest

import livewidget as lw
from livewidget.template import ComponentRef, Comprehension, TemplateError, parse


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


# --- contexts: each field is escaped for where it lands (contexts.py) ------------------------


def test_a_template_of_bare_fields_renders_through_one_compiled_function():
    template = parse('<a href="{url}" title="{t}" phx-click="{e}">{x}</a>')
    assert template.build is not None
    assert template.build({"url": "javascript:x", "t": "<", "e": "go", "x": 1}) == (
        "#ZgotmplZ",
        "&lt;",
        "go",
        "1",
    )
    assert parse("<b>{x:.2f}</b>").build is None  # a spec: the general path
    names = parse("<b>{a}{b}</b>").build
    assert names is not None
    with pytest.raises(KeyError):
        names({"a": 1})  # html() then takes the general path, which names the missing value


def test_a_url_built_from_a_path_keeps_its_values():
    rendered = lw.html('<a href="/items/{id}?q={q}">x</a>', id="a b", q="<&>")
    assert str(rendered) == '<a href="/items/a b?q=&lt;&amp;&gt;">x</a>'


def test_a_boolean_attribute_takes_markup_none_false_or_an_empty_str():
    template = '<input type="checkbox" {checked}>'
    assert str(lw.html(template, checked=lw.Markup("checked"))) == (
        '<input type="checkbox" checked>'
    )
    for nothing in (None, False, ""):
        assert str(lw.html(template, checked=nothing)) == '<input type="checkbox" >'
    with pytest.raises(TemplateError, match=r'\{checked\} stands where attributes go.*"checked"'):
        lw.html(template, checked="autofocus onfocus=alert(1)")
    with pytest.raises(TemplateError, match="stands where attributes go"):
        lw.html(template, checked=lw.html("checked"))


def test_a_trusted_value_holding_the_attribute_s_quote_is_refused_on_every_path():
    with pytest.raises(TemplateError, match=r"\{t\} is in the attribute title=.*&quot;"):
        lw.html('<p title="{t}">', t=lw.Markup('x" onmouseover="alert(1)'))  # the fast path
    with pytest.raises(TemplateError, match=r"\{t\} is in the attribute"):
        lw.html('<p title="{t:}">', t=lw.Markup('x" onmouseover="alert(1)'))
    with pytest.raises(TemplateError, match=r"\{t\} is in the attribute"):
        lw.html('<p title="{t}">', t=lw.html('<b class="x">{y}</b>', y=1))
    assert str(lw.html("<p title='{t}'>", t=lw.Markup('say "hi"'))) == "<p title='say \"hi\"'>"


def test_a_nested_template_must_close_what_it_opens():
    for opened, what in [
        ("<script>", "<script>"),
        ("<textarea>", "<textarea>"),
        ("<!-- x", "a comment"),
        ('<p title="', "a tag"),
        ("<svg>", "<svg>"),
    ]:
        with pytest.raises(TemplateError, match=f"leaves {what} open"):
            lw.html("<div>{x}</div>", x=lw.html(opened))
        with pytest.raises(TemplateError, match=f"leaves {what} open"):
            lw.html("<div>{x}</div>", x=[lw.html(opened), lw.html(opened)])


def test_a_trusted_value_cannot_end_its_raw_text_element():
    with pytest.raises(TemplateError, match=r"holds '</textarea'"):
        lw.html("<textarea>{x}</textarea>", x=lw.Markup("</textarea><script>alert(1)</script>"))
    with pytest.raises(TemplateError, match=r"holds '</script'"):
        lw.html("<script>var x = {x};</script>", x=lw.Markup('"</script><script>alert(1)//"'))
    assert str(lw.html("<script>var x = {x};</script>", x=lw.Markup('{"a": 1}'))) == (
        '<script>var x = {"a": 1};</script>'
    )


def test_numbers_go_in_scripts_and_handlers_even_formatted_but_text_does_not():
    assert str(lw.html("<script>var n = {n:.2f};</script>", n=1.5)) == (
        "<script>var n = 1.50;</script>"
    )
    assert str(lw.html('<b onclick="go({n})">', n=3)) == '<b onclick="go(3)">'
    with pytest.raises(TemplateError, match=r"takes numbers and lw\.Markup"):
        lw.html("<script>var s = '{s:>5}';</script>", s="x")
    with pytest.raises(TemplateError, match=r"takes numbers and lw\.Markup"):
        lw.html('<b onclick="go({b})">', b=True)  # a bool is not a number here


def test_a_template_nested_in_svg_must_read_the_same_as_svg():
    tip = lw.html('<circle r="{r}"><title>{t}</title></circle>', r=3, t="<b>")
    assert str(lw.html("<svg>{shapes}</svg>", shapes=[tip, tip])).count("&lt;b&gt;") == 2
    hidden_link = lw.html('<textarea><a href="{u}">x</a></textarea>', u="javascript:alert(1)")
    with pytest.raises(TemplateError, match="reads differently there than in HTML"):
        lw.html("<svg>{x}</svg>", x=hidden_link)
    with pytest.raises(TemplateError, match="reads differently"):
        lw.html("<svg>{x}</svg>", x=lw.html("<g>{inner}</g>", inner=hidden_link))


def test_a_live_component_goes_between_tags_only():
    ref = ComponentRef(lw.LiveComponent, "c", {})
    with pytest.raises(TemplateError, match=r"\{c\} is a live component"):
        lw.html('<p title="{c}">', c=ref)
    with pytest.raises(TemplateError, match=r"\{c\} is a live component"):
        lw.html('<a href="{c}">', c=ref)


def test_a_binding_holds_an_event_name_js_commands_or_trusted_markup():
    assert str(lw.html('<b phx-click="{e}">', e="save")) == '<b phx-click="save">'
    written = lw.Markup('[["push",{"event":"x"}]]')  # commands the author vouches for
    assert str(lw.html("<b phx-click='{e}'>", e=written)) == f"<b phx-click='{written}'>"
    with pytest.raises(TemplateError, match="holds the attribute's quote"):
        lw.html('<b phx-click="{e}">', e=written)
    with pytest.raises(TemplateError, match="a binding takes an event name"):
        lw.html('<b phx-click="{e}">', e=lw.html("[{x}]", x=1))


def test_a_lone_surrogate_in_a_value_renders_as_a_replacement_character():
    bad = "Eve \ud800 and \udc80"  # json.loads of bad data gives such text
    for rendered in (
        lw.html("<p>{who}</p>", who=bad),
        lw.html('<p title="{who}">{n:>3}</p>', who=bad, n=1),
        lw.html("<p>{who}</p>", who=lw.Markup(bad)),
        lw.html("<p>{who!s}</p>", who=bad),
    ):
        html = rendered.to_html()
        html.encode("utf-8")  # would raise for a lone surrogate
        assert "Eve \ufffd and \ufffd" in html
