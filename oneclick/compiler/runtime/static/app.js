/* The client runtime of a oneclick app (the same in every build).
 *
 * Renders the screen named by <body data-screen="..."> from window.OneclickModel (model.js)
 * against the REST API under /api/, with the static entities of the bundled libraries from
 * window.OneclickLibs (each library's enums.js). A list screen shows a page of records with
 * links to the entity's form screen, and shows it again after a delete; a form screen
 * creates a record ("New ..."), or edits the one named by ?id= ("Edit ..."), and marks every
 * field the server refused, named by its label. Everything that comes from the model or
 * the database reaches the page as text (textContent, element properties), never as HTML.
 */
(function () {
  "use strict";

  const model = window.OneclickModel;
  const libs = window.OneclickLibs || {};
  const PAGE_SIZE = 50;
  const OPTION_LIMIT = 500;

  function has(object, key) {
    return object !== null && object !== undefined && Object.prototype.hasOwnProperty.call(object, key);
  }

  function el(tag, props, children) {
    const node = document.createElement(tag);
    Object.keys(props || {}).forEach((name) => {
      const value = props[name];
      if (name === "text") {
        node.textContent = value;
      } else if (/^(data-|aria-)|^(for|role|scope)$/.test(name)) {
        node.setAttribute(name, value);
      } else {
        node[name] = value;
      }
    });
    (children || []).forEach((child) => child && node.appendChild(child));
    return node;
  }

  function entityNamed(name) {
    return model.entities.find((entity) => entity.name === name) || null;
  }

  function screenFor(entityName, kind) {
    return model.screens.find((s) => s.entity === entityName && s.kind === kind) || null;
  }

  function pageUrl(screen) {
    return "/static/screens/" + encodeURIComponent(screen.page);
  }

  function apiUrl(entity, id) {
    return "/api/" + encodeURIComponent(entity.path) + (id === undefined ? "" : "/" + encodeURIComponent(id));
  }

  async function request(method, url, body) {
    const options = { method: method, headers: { Accept: "application/json" } };
    if (body !== undefined) {
      options.headers["Content-Type"] = "application/json";
      options.body = JSON.stringify(body);
    }
    let response;
    try {
      response = await fetch(url, options);
    } catch (failure) {
      return { ok: false, status: 0, data: { error: "The server cannot be reached.", attribute: null } };
    }
    if (response.status === 204) {
      return { ok: true, status: 204, data: null };
    }
    try {
      return { ok: response.ok, status: response.status, data: await response.json() };
    } catch (failure) {
      const data = { error: "Unexpected answer from the server (" + response.status + ").", attribute: null };
      return { ok: false, status: response.status, data: data };
    }
  }

  function staticLabels(attribute) {
    const library = has(libs, attribute.library) ? libs[attribute.library] : {};
    return has(library, attribute.static) ? library[attribute.static] : {};
  }

  function recordLabel(entity, record) {
    const value = entity.label ? record[entity.label] : null;
    return value === null || value === undefined || value === "" ? "#" + record.Id : String(value);
  }

  const labelCache = new Map();

  function referenceLabel(entityName, id) {
    const key = entityName + "#" + id;
    if (!labelCache.has(key)) {
      const entity = entityNamed(entityName);
      labelCache.set(key, request("GET", apiUrl(entity, id)).then(
        (answer) => (answer.ok ? recordLabel(entity, answer.data) : "#" + id)));
    }
    return labelCache.get(key);
  }

  function displayValue(attribute, value) {
    if (value === null || value === undefined) {
      return "";
    }
    if (attribute.type === "boolean") {
      return value ? "Yes" : "No";
    }
    if (attribute.type === "static") {
      const labels = staticLabels(attribute);
      return has(labels, value) ? labels[value] : String(value);
    }
    if (attribute.type === "reference") {
      return referenceLabel(attribute.entity, value);
    }
    return String(value);
  }

  /* An error answer in ``box``; on a form (``entity`` and its ``inputs`` by attribute name),
   * every refused field is marked and listed under its label. */
  function showError(box, data, entity, inputs) {
    Object.keys(inputs || {}).forEach((name) => {
      inputs[name].classList.remove("invalid");
      inputs[name].removeAttribute("aria-invalid");
    });
    const problems = (inputs && data && data.problems) || [];
    box.textContent = problems.length ? "" : (data && data.error) || "Something went wrong.";
    box.hidden = false;
    if (!problems.length) {
      return;
    }
    const items = problems.map((problem) => el("li", { text: problemText(entity, inputs, problem) }));
    box.appendChild(el("ul", {}, items));
    const refused = problems.filter((problem) => has(inputs, problem.attribute));
    refused.forEach((problem) => {
      inputs[problem.attribute].classList.add("invalid");
      inputs[problem.attribute].setAttribute("aria-invalid", "true");
    });
    if (refused.length) {
      inputs[refused[0].attribute].focus();
    }
  }

  function problemText(entity, inputs, problem) {
    const attribute = entity.attributes.find((a) => a.name === problem.attribute);
    if (!attribute) {
      return problem.attribute ? problem.attribute + ": " + problem.message : problem.message;
    }
    if (!has(problem, "missing")) {
      return attribute.title + ": " + problem.message;
    }
    const chosen = Array.from(inputs[attribute.name].options).find((o) => o.value === String(problem.missing));
    const record = entityNamed(attribute.entity).title.toLowerCase() + (chosen ? ' "' + chosen.text + '"' : "");
    return attribute.title + ": the " + record + " no longer exists; choose another";
  }

  /* ---- list screens ---- */

  async function renderList(screen, root) {
    const entity = entityNamed(screen.entity);
    const form = screenFor(entity.name, "form");
    const offset = Math.max(0, parseInt(new URLSearchParams(location.search).get("offset"), 10) || 0);
    const message = el("div", { className: "error", role: "alert", hidden: true });
    const toolbar = el("div", { className: "toolbar" });
    if (form) {
      toolbar.appendChild(el("a", { className: "button", href: pageUrl(form), text: "New " + entity.title.toLowerCase() }));
    }
    const headings = entity.attributes.map((a) => el("th", { scope: "col", text: a.title }));
    headings.push(el("th", { scope: "col", className: "actions", text: "Actions" }));
    const body = el("tbody");
    const table = el("table", { className: "records" }, [el("thead", {}, [el("tr", {}, headings)]), body]);
    const pager = el("nav", { className: "pager", "aria-label": "Pages" });
    [toolbar, message, table, pager].forEach((node) => root.appendChild(node));

    async function load() {
      const answer = await request("GET", apiUrl(entity) + "?limit=" + PAGE_SIZE + "&offset=" + offset);
      if (!answer.ok) {
        showError(message, answer.data);
        return;
      }
      body.textContent = "";
      pager.textContent = "";
      answer.data.items.forEach((record) => body.appendChild(renderRow(entity, form, record, message, load)));
      if (!answer.data.items.length) {
        const cell = el("td", { colSpan: headings.length, className: "empty", text: "No records yet." });
        body.appendChild(el("tr", {}, [cell]));
      }
      renderPager(pager, answer.data);
    }
    await load();
  }

  /* One record's row; after a delete, ``reload`` shows the page (and its count) again. */
  function renderRow(entity, form, record, message, reload) {
    const cells = entity.attributes.map((attribute) => {
      const cell = el("td", { className: "type-" + attribute.type + (attribute.type === "decimal" ? " amount" : "") });
      const value = displayValue(attribute, record[attribute.name]);
      if (typeof value === "string") {
        cell.textContent = value;
      } else {
        value.then((text) => { cell.textContent = text; });
      }
      return cell;
    });
    const actions = el("td", { className: "actions" });
    if (form) {
      actions.appendChild(el("a", { href: pageUrl(form) + "?id=" + encodeURIComponent(record.Id), text: "Edit" }));
    }
    const remove = el("button", { type: "button", className: "delete", text: "Delete" });
    actions.appendChild(remove);
    cells.push(actions);
    const row = el("tr", { "data-id": String(record.Id) }, cells);
    remove.addEventListener("click", async () => {
      if (!window.confirm("Delete " + entity.title.toLowerCase() + " " + recordLabel(entity, record) + "?")) {
        return;
      }
      const answer = await request("DELETE", apiUrl(entity, record.Id));
      if (answer.ok) {
        message.hidden = true;
        await reload();
      } else {
        showError(message, answer.data);
      }
    });
    return row;
  }

  function renderPager(pager, page) {
    const first = page.total ? page.offset + 1 : 0;
    const last = page.offset + page.items.length;
    pager.appendChild(el("span", { text: "Records " + first + "–" + last + " of " + page.total }));
    if (page.offset > 0) {
      pager.appendChild(el("a", { href: "?offset=" + Math.max(0, page.offset - page.limit), text: "Previous" }));
    }
    if (last < page.total) {
      pager.appendChild(el("a", { href: "?offset=" + last, text: "Next" }));
    }
  }

  /* ---- form screens ---- */

  function inputFor(attribute, id) {
    const props = { id: id, name: attribute.name, required: attribute.mandatory };
    switch (attribute.type) {
      case "boolean":
        return el("input", { id: id, name: attribute.name, type: "checkbox" });
      case "static":
      case "reference":
        return el("select", props, [el("option", { value: "", text: "—" })]);
      case "integer":
      case "long":
        return el("input", Object.assign(props, { type: "number", step: "1" }));
      case "decimal":
        return el("input", Object.assign(props, { type: "text", inputMode: "decimal", className: "amount" }));
      case "date":
        return el("input", Object.assign(props, { type: "date" }));
      case "datetime":
        return el("input", Object.assign(props, { type: "datetime-local", step: "1" }));
      case "email":
        return el("input", Object.assign(props, { type: "email", maxLength: attribute.length }));
      case "phone":
        return el("input", Object.assign(props, { type: "tel", maxLength: attribute.length }));
      default:
        if (attribute.length > 255) {
          return el("textarea", Object.assign(props, { maxLength: attribute.length, rows: 4 }));
        }
        return el("input", Object.assign(props, { type: "text", maxLength: attribute.length }));
    }
  }

  async function loadOptions(attribute, select) {
    if (attribute.type === "static") {
      const labels = staticLabels(attribute);
      Object.keys(labels).forEach((key) => select.appendChild(el("option", { value: key, text: labels[key] })));
      return;
    }
    const entity = entityNamed(attribute.entity);
    const answer = await request("GET", apiUrl(entity) + "?limit=" + OPTION_LIMIT);
    if (answer.ok) {
      answer.data.items.forEach((record) => {
        select.appendChild(el("option", { value: String(record.Id), text: recordLabel(entity, record) }));
      });
    }
  }

  function fillInput(attribute, input, value) {
    if (attribute.type === "boolean") {
      input.checked = Boolean(value);
      return;
    }
    let text = value === null || value === undefined ? "" : String(value);
    if (attribute.type === "datetime") {
      text = text.slice(0, 19);
    }
    if (input.tagName === "SELECT" && text && !Array.from(input.options).some((o) => o.value === text)) {
      input.appendChild(el("option", { value: text, text: displayOption(attribute, text) }));
    }
    input.value = text;
  }

  function displayOption(attribute, text) {
    return attribute.type === "reference" ? "#" + text : text;
  }

  function readInput(attribute, input) {
    if (attribute.type === "boolean") {
      return input.checked;
    }
    const text = input.value.trim() === "" && attribute.type !== "text" ? "" : input.value;
    if (text === "") {
      return null;
    }
    return attribute.type === "reference" ? Number(text) : text;
  }

  async function renderForm(screen, root) {
    const entity = entityNamed(screen.entity);
    const list = screenFor(entity.name, "list");
    const back = list ? pageUrl(list) : "/";
    const id = new URLSearchParams(location.search).get("id");
    const heading = (id ? "Edit " : "New ") + entity.title.toLowerCase();
    document.querySelector("main h1").textContent = heading;
    document.title = heading + " · " + model.title;
    const message = el("div", { className: "error", role: "alert", hidden: true });
    const form = el("form", { className: "record", noValidate: true });
    const inputs = {};
    entity.attributes.forEach((attribute) => {
      const inputId = "field-" + attribute.column;
      const input = inputFor(attribute, inputId);
      inputs[attribute.name] = input;
      const text = attribute.title + (attribute.mandatory ? " *" : "");
      const label = el("label", { for: inputId, text: text });
      form.appendChild(el("div", { className: "field type-" + attribute.type }, [label, input]));
    });
    const save = el("button", { type: "submit", className: "button", text: id ? "Save" : "Create" });
    const cancel = el("a", { href: back, text: "Cancel" });
    form.appendChild(el("div", { className: "buttons" }, [save, cancel]));
    root.appendChild(message);
    root.appendChild(form);

    const selects = entity.attributes.filter((a) => a.type === "static" || a.type === "reference");
    await Promise.all(selects.map((a) => loadOptions(a, inputs[a.name])));
    if (id) {
      const answer = await request("GET", apiUrl(entity, id));
      if (!answer.ok) {
        showError(message, answer.data);
        save.disabled = true;
        return;
      }
      entity.attributes.forEach((a) => fillInput(a, inputs[a.name], answer.data[a.name]));
    } else {
      entity.attributes.forEach((a) => fillInput(a, inputs[a.name], a.default));
    }

    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const record = {};
      entity.attributes.forEach((a) => { record[a.name] = readInput(a, inputs[a.name]); });
      save.disabled = true;
      const answer = await request(id ? "PUT" : "POST", id ? apiUrl(entity, id) : apiUrl(entity), record);
      save.disabled = false;
      if (answer.ok) {
        location.href = back;
      } else {
        showError(message, answer.data, entity, inputs);
      }
    });
  }

  function start() {
    const name = document.body.getAttribute("data-screen");
    const root = document.getElementById("screen");
    if (!model || !name || !root) {
      return;
    }
    const screen = model.screens.find((s) => s.name === name);
    if (!screen || !entityNamed(screen.entity)) {
      return;
    }
    root.textContent = "";
    root.setAttribute("data-ready", "false");
    const render = screen.kind === "list" ? renderList : renderForm;
    render(screen, root).finally(() => root.setAttribute("data-ready", "true"));
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
