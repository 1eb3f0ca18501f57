// The page's logic: read the form, call the JSON API, render the answers with KaTeX.
"use strict";

const $ = (id) => document.getElementById(id);
let lastTex = null;  // the standalone .tex of the last derivation

function tex(target, source, display = true) {
  const el = typeof target === "string" ? $(target) : target;
  katex.render(source, el, {displayMode: display, throwOnError: false, output: "htmlAndMathml"});
  return el;
}

function block(parent, source, cls = "math") {
  const div = document.createElement("div");
  div.className = cls;
  parent.appendChild(tex(div, source));
  return div;
}

function text(parent, tag, content, cls) {
  const el = document.createElement(tag);
  el.textContent = content;
  if (cls) el.className = cls;
  parent.appendChild(el);
  return el;
}

// Prose with bare LaTeX in it (check's diagnoses): each run of commands with their braced
// arguments and sub/superscripts is rendered inline, the rest stays text.
function prose(parent, tag, content) {
  const el = document.createElement(tag);
  let i = 0, plain = "";
  const flush = () => { if (plain) el.appendChild(document.createTextNode(plain)); plain = ""; };
  const group = (j) => {  // the index after the balanced {...} at j
    let depth = 0;
    for (; j < content.length; j++) {
      if (content[j] === "{") depth++;
      else if (content[j] === "}" && --depth === 0) return j + 1;
    }
    return -1;
  };
  while (i < content.length) {
    if (content[i] !== "\\" || !/[A-Za-z]/.test(content[i + 1] || "")) {
      plain += content[i++];
      continue;
    }
    let j = i;
    for (;;) {
      const cmd = /^\\[A-Za-z]+/.exec(content.slice(j));
      if (!cmd) break;
      j += cmd[0].length;
      for (;;) {
        if (content[j] === "_" || content[j] === "^") j++;
        if (content[j] !== "{") { if (/[_^]/.test(content[j - 1])) j++; break; }
        const end = group(j);
        if (end < 0) { j = content.length; break; }
        j = end;
      }
      const next = /^ (?=\\[A-Za-z])/.exec(content.slice(j));
      if (!next) break;
      j += 1;
    }
    flush();
    const span = document.createElement("span");
    katex.render(content.slice(i, j), span, {throwOnError: false});
    el.appendChild(span);
    i = j;
  }
  flush();
  parent.appendChild(el);
  return el;
}

// Markdown of a derivation: $$...$$ blocks are math, the rest short paragraphs.
function markdown(parent, md) {
  parent.replaceChildren();
  md.split(/\$\$/).forEach((part, i) => {
    const s = part.trim();
    if (!s) return;
    if (i % 2 === 1) block(parent, s);
    else text(parent, "p", s);
  });
}

// The shapes box: "W: n×m, b: n×1" is sent as written; the server reads it as sg.parse does.
function request(extra) {
  const wrt = $("wrt").value.split(/[\s,]+/).filter(Boolean);
  return Object.assign({
    expression: $("expression").value,
    shapes: $("shapes").value.trim() || null,
    syntax: $("syntax").value,
    wrt: wrt.length ? wrt : null,
  }, extra);
}

async function call(path, body) {
  const response = await fetch(path, {
    method: "POST", headers: {"Content-Type": "application/json"}, body: JSON.stringify(body),
  });
  const kind = response.headers.get("Content-Type") || "";
  const data = kind.includes("json") ? await response.json() : await response.blob();
  if (!response.ok) throw data.error || {type: "HTTP " + response.status, message: "failed"};
  return data;
}

function showError(err) {
  $("error").hidden = false;
  $("error-message").textContent = `${err.type}: ${err.message}`;
  $("error-caret").textContent = err.caret || "";
  $("error-caret").hidden = !err.caret;
}

function clearError() {
  $("error").hidden = true;
}

function listSection(boxId, listId, entries, lhs) {
  const box = $(boxId), list = $(listId);
  list.replaceChildren();
  box.hidden = !entries;
  if (!entries) return;
  for (const [name, value] of Object.entries(entries)) {
    if (value.latex) block(list, `${lhs(name)} = ${value.latex}`);
    else text(list, "p", `${name}: ${value.error}`, "unsupported");
  }
}

function render(r) {
  $("output").hidden = false;
  const notes = $("assumptions");
  notes.replaceChildren();
  if (r.assumptions.length) text(notes, "li", "Assumed (declare shapes to change):", "head");
  r.assumptions.forEach((a) => text(notes, "li", a));
  text(notes, "li", `read as ${r.syntax}; the result is ${r.shape.join("×") || "a scalar"}`);

  tex("expression-view", r.expression);
  tex("explicit", r.explicit);
  const bc = $("broadcasts");
  bc.replaceChildren();
  r.broadcasts.forEach((b) => {
    block(bc, b.latex);
    text(bc, "p", b.text, "hint");
  });

  const results = $("results");
  results.replaceChildren();
  if (r.display) {  // shared parts named once, then the results in terms of them
    block(results, r.display, "math result");
  } else {
    for (const [name, latex] of Object.entries(r.results)) {
      const div = block(results, `${r.lhs[name]} = ${latex}`, "math result");
      div.dataset.wrt = name;
    }
  }

  $("derivation-box").hidden = !r.markdown;
  if (r.markdown) markdown($("derivation"), r.markdown);
  const of = r.expression.length < 40 ? r.expression : "f";
  listSection("jacobian-box", "jacobians", r.jacobian,
    (n) => `\\frac{\\partial\\,(${of})}{\\partial ${n}}`);
  listSection("hessian-box", "hessians", r.hessian, (n) => `\\nabla^{2}_{${n}}\\,(${of})`);

  $("code-box").hidden = !r.code;
  $("code").textContent = r.code || "";

  lastTex = r.tex;
  const source = r.derivation || r.display ||
    Object.entries(r.results).map(([n, l]) => `${r.lhs[n]} = ${l}`).join(" \\\\\n");
  $("latex-source").value = source;
  const file = r.tex || `\\documentclass{article}\n\\usepackage{amsmath,amssymb,bm}\n` +
    `\\begin{document}\n\\begin{align*}\n${source}\n\\end{align*}\n\\end{document}\n`;
  const link = $("download-tex");
  if (link.href.startsWith("blob:")) URL.revokeObjectURL(link.href);
  link.href = URL.createObjectURL(new Blob([file], {type: "application/x-tex"}));
}

async function derive(event) {
  if (event) event.preventDefault();
  const button = $("derive");
  button.disabled = true;
  try {
    const r = await call("/api/derive", request({
      steps: $("steps").checked, jacobian: $("jacobian").checked,
      hessian: $("hessian").checked, code: $("backend").value || null,
    }));
    clearError();
    render(r);
    document.body.dataset.state = "derived";
  } catch (err) {
    showError(err);
    document.body.dataset.state = "error";
  } finally {
    button.disabled = false;
  }
}

async function check(event) {
  event.preventDefault();
  const box = $("verdict");
  try {
    const v = await call("/api/check", request({claim: $("claim").value}));
    clearError();
    box.hidden = false;
    box.className = v.ok ? "ok" : "wrong";
    $("verdict-summary").textContent = v.ok ? "Right." : "Wrong.";
    tex("verdict-math", `\\text{claimed: } ${v.claim} \\qquad \\text{symgrad: } ${v.gradient}`);
    const list = $("verdict-diagnoses");
    list.replaceChildren();
    (v.ok ? [v.summary] : v.diagnoses).forEach((s) => prose(list, "li", s));
    const ce = v.counterexample;
    $("counterexample").hidden = !ce;
    $("counterexample-head").textContent = ce ? ce.text.split("\n")[0].replace(/:$/, "") : "";
    $("counterexample-body").textContent = ce ? ce.text.split("\n").slice(1).join("\n") : "";
    box.dataset.ok = String(v.ok);
  } catch (err) {
    box.hidden = true;
    showError(err);
  }
}

async function pdf() {
  try {
    const blob = await call("/api/pdf", request({}));
    const a = document.createElement("a");
    a.href = URL.createObjectURL(blob);
    a.download = "derivation.pdf";
    a.click();
    setTimeout(() => URL.revokeObjectURL(a.href), 1000);
  } catch (err) {
    showError(err);
  }
}

function copy(event) {
  const el = $(event.target.dataset.copy);
  const value = "value" in el && el.tagName === "TEXTAREA" ? el.value : el.textContent;
  navigator.clipboard.writeText(value).then(
    () => { event.target.textContent = "copied"; },
    () => { if (el.select) el.select(); event.target.textContent = "select + Ctrl-C"; });
  setTimeout(() => { event.target.textContent = "copy"; }, 1500);
}

window.addEventListener("DOMContentLoaded", async () => {
  $("input-form").addEventListener("submit", derive);
  $("check-form").addEventListener("submit", check);
  $("download-pdf").addEventListener("click", pdf);
  document.querySelectorAll("button.copy").forEach((b) => b.addEventListener("click", copy));
  $("expression").addEventListener("keydown", (e) => {
    if (e.key === "Enter" && !e.shiftKey) derive(e);
  });
  try {
    const info = await (await fetch("/api/info")).json();
    $("version").textContent = info.version;
    $("download-pdf").hidden = !info.pdf;
  } catch (err) { /* the page works without it */ }
  document.body.dataset.state = "ready";
});
