import { afterEach, beforeEach, describe, expect, test } from "vitest";
import { patch } from "../src/dom_patch";

let container: HTMLElement;

beforeEach(() => {
  container = document.createElement("div");
  document.body.append(container);
});

afterEach(() => {
  container.remove();
});

describe("patch", () => {
  test("sets the container's children to the new HTML", () => {
    patch(container, "<p>a</p><p>b</p>");
    expect(container.innerHTML).toBe("<p>a</p><p>b</p>");
    patch(container, "<ul><li>x</li></ul>");
    expect(container.innerHTML).toBe("<ul><li>x</li></ul>");
  });

  test("keeps unchanged nodes as the same DOM nodes", () => {
    patch(container, '<h1>Title</h1><p id="n">1</p><span>x</span>');
    const h1 = container.querySelector("h1");
    const p = container.querySelector("p");
    const span = container.querySelector("span");
    patch(container, '<h1>Title</h1><p id="n">2</p><span>x</span>');
    expect(container.querySelector("h1")).toBe(h1);
    expect(container.querySelector("p")).toBe(p);
    expect(container.querySelector("span")).toBe(span);
    expect(p?.textContent).toBe("2");
  });

  test("a focused input keeps focus and its typed value while its siblings change", () => {
    patch(container, '<form><label>Count: 1</label><input name="q" value="server"></form>');
    const input = container.querySelector("input") as HTMLInputElement;
    input.focus();
    input.value = "typed by the user";
    input.setSelectionRange(2, 5);

    patch(
      container,
      '<form><h2>New</h2><label>Count: 2</label><input name="q" value="other" class="busy"></form>',
    );

    expect(container.querySelector("input")).toBe(input);
    expect(document.activeElement).toBe(input);
    expect(input.value).toBe("typed by the user");
    expect(input.className).toBe("busy"); // attributes other than value follow the server
    expect(input.selectionStart).toBe(2);
    expect(input.selectionEnd).toBe(5);
    expect(container.querySelector("label")?.textContent).toBe("Count: 2");
    expect(container.querySelector("h2")?.textContent).toBe("New");
  });

  test("a focused textarea keeps its typed text", () => {
    patch(container, '<p>1</p><textarea name="t">server</textarea>');
    const area = container.querySelector("textarea") as HTMLTextAreaElement;
    area.focus();
    area.value = "mine";
    patch(container, '<p>2</p><textarea name="t">changed</textarea>');
    expect(container.querySelector("textarea")).toBe(area);
    expect(area.value).toBe("mine");
    expect(document.activeElement).toBe(area);
  });

  test("an input that is not focused takes the server's value", () => {
    patch(container, '<input name="q" value="a">');
    const input = container.querySelector("input") as HTMLInputElement;
    input.value = "typed";
    patch(container, '<input name="q" value="b">');
    expect(container.querySelector("input")).toBe(input);
    expect(input.value).toBe("b");
  });

  test('phx-update="ignore" keeps children and attributes; id and data-* follow', () => {
    patch(
      container,
      '<div id="chart" phx-update="ignore" class="a" data-x="1"><canvas></canvas></div><p>1</p>',
    );
    const chart = container.querySelector("#chart") as HTMLElement;
    chart.querySelector("canvas")?.setAttribute("width", "300"); // a library drew here
    chart.append(document.createElement("svg"));

    patch(
      container,
      '<div id="chart" phx-update="ignore" class="b" data-x="2"><span>server</span></div><p>2</p>',
    );

    expect(container.querySelector("#chart")).toBe(chart);
    expect(chart.innerHTML).toBe('<canvas width="300"></canvas><svg></svg>');
    expect(chart.className).toBe("a");
    expect(chart.dataset.x).toBe("2");
    expect(container.querySelector("p")?.textContent).toBe("2");
  });
});
