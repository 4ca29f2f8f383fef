// The region picker (stakeholders/widgets.py, templates/stakeholders/widgets/region_picker.html).
// htmx fetches the results and the drill-down options; this file adds what htmx does not:
// the search parameters, the keyboard (ArrowUp/Down move, Enter picks, Escape closes, Tab
// leaves), picking, chips and the drill-down reset. No inline script anywhere (CSP).
(function () {
  "use strict";
  if (window.atensiRegionPicker) { return; }
  window.atensiRegionPicker = true;

  function byRole(root, role) { return root.querySelector('[data-role="' + role + '"]'); }
  function allByRole(root, role) { return Array.prototype.slice.call(root.querySelectorAll('[data-role="' + role + '"]')); }
  function pickerOf(el) { return el && el.closest ? el.closest("[data-region-picker]") : null; }

  function Picker(root) {
    this.root = root;
    this.input = byRole(root, "input");
    this.listbox = byRole(root, "listbox");
    this.status = byRole(root, "status");
    this.value = byRole(root, "value");
    this.code = byRole(root, "code");
    this.multiple = root.hasAttribute("data-multiple");
    this.active = -1;
    this.chosenLabel = this.multiple ? "" : this.input.value;
    root.regionPicker = this;
    byRole(root, "search").hidden = false;
    var drill = byRole(root, "drill");
    if (drill) { drill.hidden = false; }
    this.bind();
  }

  Picker.prototype.options = function () {
    return Array.prototype.slice.call(this.listbox.querySelectorAll('[role="option"]:not([aria-disabled="true"])'));
  };

  Picker.prototype.isOpen = function () { return !this.listbox.hidden; };

  Picker.prototype.open = function () {
    if (!this.listbox.querySelector('[role="option"]')) { this.close(); return; }
    this.listbox.hidden = false;
    this.input.setAttribute("aria-expanded", "true");
  };

  Picker.prototype.close = function () {
    this.listbox.hidden = true;
    this.input.setAttribute("aria-expanded", "false");
    this.input.removeAttribute("aria-activedescendant");
    this.setActive(-1);
  };

  Picker.prototype.setActive = function (index) {
    var options = this.options();
    if (index >= options.length) { index = 0; }
    if (index < -1) { index = options.length - 1; }
    this.active = index;
    options.forEach(function (option, i) {
      var on = i === index;
      option.classList.toggle("active", on);
      option.setAttribute("aria-selected", on ? "true" : "false");
    });
    if (index >= 0 && options[index]) {
      this.input.setAttribute("aria-activedescendant", options[index].id);
      options[index].scrollIntoView({ block: "nearest" });
    } else {
      this.input.removeAttribute("aria-activedescendant");
    }
  };

  // The search is narrowed by the deepest "search in" select chosen, else the widget's area.
  Picker.prototype.within = function () {
    var chosen = allByRole(this.root, "scope").filter(function (s) { return s.value; });
    return chosen.length ? chosen[chosen.length - 1].value : (this.root.dataset.within || "");
  };

  Picker.prototype.say = function (text) { this.status.textContent = text || ""; };

  Picker.prototype.choose = function (region) {
    if (this.multiple) {
      this.addChip(region);
      this.input.value = "";
    } else {
      this.value.value = region.code;
      this.input.value = region.label;
      this.chosenLabel = region.label;
      var chosen = byRole(this.root, "chosen");
      byRole(chosen, "chosen-code").textContent = region.dotted;
      byRole(chosen, "chosen-level").textContent = region.level;
      chosen.hidden = false;
      this.value.dispatchEvent(new Event("change", { bubbles: true }));
    }
    if (this.code) { this.code.value = ""; }
    this.close();
    this.say("");
    this.root.dispatchEvent(new CustomEvent("region-picked", { bubbles: true, detail: region }));
  };

  Picker.prototype.clear = function () {
    if (this.multiple || !this.value.value) { return; }
    this.value.value = "";
    this.chosenLabel = "";
    byRole(this.root, "chosen").hidden = true;
    this.value.dispatchEvent(new Event("change", { bubbles: true }));
  };

  Picker.prototype.addChip = function (region) {
    var chips = byRole(this.root, "chips");
    if (chips.querySelector('[data-code="' + region.code + '"]')) {
      this.say(region.label + ": " + this.root.dataset.alreadyText);
      return;
    }
    var chip = byRole(this.root, "chip-template").content.firstElementChild.cloneNode(true);
    chip.dataset.code = region.code;
    chip.querySelector("input").value = region.code;
    byRole(chip, "chip-label").textContent = region.label;
    byRole(chip, "chip-code").textContent = region.dotted;
    byRole(chip, "remove").setAttribute("aria-label", this.root.dataset.removeText + " " + region.label);
    chips.appendChild(chip);
    chip.querySelector("input").dispatchEvent(new Event("change", { bubbles: true }));
  };

  Picker.prototype.regionFromElement = function (el) {
    return { code: el.dataset.code || el.value, label: el.dataset.label, dotted: el.dataset.dotted, level: el.dataset.level };
  };

  // True while the text box shows something typed but not picked.
  Picker.prototype.dirty = function () {
    var text = this.input.value.trim();
    return this.multiple ? text !== "" : text !== "" && text !== this.chosenLabel;
  };

  Picker.prototype.onKeydown = function (event) {
    var options = this.options();
    switch (event.key) {
      case "ArrowDown":
        event.preventDefault();
        if (!this.isOpen()) { this.open(); }
        if (options.length) { this.setActive(this.active + 1); }
        break;
      case "ArrowUp":
        event.preventDefault();
        if (!this.isOpen()) { this.open(); }
        if (options.length) { this.setActive(this.active < 0 ? options.length - 1 : this.active - 1); }
        break;
      case "Enter":
        if (this.isOpen() && this.active >= 0 && options[this.active]) {
          event.preventDefault();
          this.choose(this.regionFromElement(options[this.active]));
        } else if (this.dirty()) {
          // Typed but not picked: submitting now would send the previous region.
          event.preventDefault();
          this.open();
        }
        break;
      case "Escape":
        if (this.isOpen()) {
          event.preventDefault();
          this.close();
        } else if (this.dirty()) {
          event.preventDefault();
          this.input.value = this.chosenLabel;
        }
        break;
      case "Tab":
        this.close();
        break;
      default:
        break;
    }
  };

  Picker.prototype.bind = function () {
    var self = this;
    this.input.addEventListener("keydown", function (e) { self.onKeydown(e); });
    this.input.addEventListener("input", function () {
      if (self.input.value.trim() === "") {
        self.close();
        self.clear();
      }
    });
    this.input.addEventListener("blur", function () {
      // A click on an option keeps the focus (mousedown is cancelled), so this is a real leave.
      self.close();
      if (!self.multiple && self.dirty()) { self.input.value = self.chosenLabel; }
    });
    this.listbox.addEventListener("mousedown", function (e) { e.preventDefault(); });
    this.listbox.addEventListener("click", function (e) {
      var option = e.target.closest('[role="option"]');
      if (option && option.getAttribute("aria-disabled") !== "true") {
        self.choose(self.regionFromElement(option));
      }
    });
    this.root.addEventListener("click", function (e) {
      var remove = e.target.closest('[data-role="remove"]');
      if (remove) {
        var chip = remove.closest(".region-picker-chip");
        var label = chip.textContent.trim();
        chip.remove();
        self.say("");
        self.input.focus();
        self.root.dispatchEvent(new CustomEvent("region-removed", { bubbles: true, detail: { label: label } }));
      }
      var add = e.target.closest('[data-role="add"]');
      if (add) {
        var deepest = self.deepestChoosable();
        if (deepest) { self.choose(self.regionFromElement(deepest.selectedOptions[0])); }
      }
    });
    this.root.addEventListener("change", function (e) {
      var select = e.target;
      var role = select.dataset ? select.dataset.role : "";
      if (role !== "browse-level" && role !== "scope") { return; }
      self.resetBelow(role, Number(select.dataset.level));
      if (role === "scope") {
        if (self.input.value.trim() && self.dirty()) { htmx.trigger(self.input, "region-rescope"); }
        return;
      }
      var add = byRole(self.root, "add");
      if (add) { add.disabled = !self.deepestChoosable(); }
      if (!self.multiple && select.value && select.hasAttribute("data-choosable")) {
        self.choose(self.regionFromElement(select.selectedOptions[0]));
      }
    });
  };

  Picker.prototype.deepestChoosable = function () {
    var found = null;
    allByRole(this.root, "browse-level").forEach(function (select) {
      if (select.value && select.hasAttribute("data-choosable")) { found = select; }
    });
    return found;
  };

  // A new province empties the regency/city, district and village selects below it.
  Picker.prototype.resetBelow = function (role, level) {
    allByRole(this.root, role).forEach(function (select) {
      if (Number(select.dataset.level) > level) {
        select.replaceChildren(new Option(select.dataset.placeholder, ""));
        select.disabled = true;
        if (role === "scope") { select.hidden = true; }
      }
    });
  };

  function init(scope) {
    var roots = [];
    if (scope.matches && scope.matches("[data-region-picker]")) { roots.push(scope); }
    if (scope.querySelectorAll) {
      roots = roots.concat(Array.prototype.slice.call(scope.querySelectorAll("[data-region-picker]")));
    }
    roots.forEach(function (root) { if (!root.regionPicker) { new Picker(root); } });
  }

  document.addEventListener("DOMContentLoaded", function () { init(document); });
  // Pickers that arrive in htmx-loaded content (a form in a fragment) work too.
  document.addEventListener("htmx:load", function (e) { init(e.detail.elt); });

  document.addEventListener("htmx:configRequest", function (e) {
    var elt = e.detail.elt;
    var root = pickerOf(elt);
    if (!root || !root.regionPicker) { return; }
    var picker = root.regionPicker;
    var role = elt.dataset.role;
    if (role === "input") {
      e.detail.parameters.q = elt.value.trim();
      e.detail.parameters.within = picker.within();
    } else if (role === "browse-level" || role === "scope") {
      if (!elt.value) { e.preventDefault(); return; }  // "Choose…" again: nothing to load
      e.detail.parameters.parent = elt.value;
    }
  });

  document.addEventListener("htmx:afterSwap", function (e) {
    var target = e.detail.target;
    var root = pickerOf(target);
    if (!root || !root.regionPicker) { return; }
    var picker = root.regionPicker;
    if (target === picker.listbox) {
      var status = byRole(target, "result-status");
      picker.say(status ? status.dataset.text : "");
      picker.options().forEach(function (option, i) { option.id = target.id + "-" + i; });
      picker.active = -1;
      if (document.activeElement === picker.input && picker.input.value.trim()) { picker.open(); } else { picker.close(); }
    } else if (target.tagName === "SELECT") {
      if (target.options[0] && target.dataset.placeholder) { target.options[0].textContent = target.dataset.placeholder; }
      target.disabled = false;
      target.hidden = false;
    }
  });

  document.addEventListener("htmx:responseError", function (e) {
    var root = pickerOf(e.detail.elt);
    if (root && root.regionPicker) {
      root.regionPicker.close();
      root.regionPicker.say((e.detail.xhr.responseText || "").slice(0, 300));
    }
  });

  document.addEventListener("htmx:sendError", function (e) {
    var root = pickerOf(e.detail.elt);
    if (root && root.regionPicker) { root.regionPicker.say(root.dataset.offlineText); }
  });
}());
