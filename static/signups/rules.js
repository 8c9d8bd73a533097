// The rules form shows only the fields the chosen kind uses. Without it every field shows, each
// group marked with the kinds that use it, and the server refuses a filled field the kind does
// not use. A hidden field is disabled, so it is not sent; what was typed there stays for
// choosing that kind again. No inline scripts (CSP).
(function () {
  "use strict";
  const form = document.getElementById("rules-form");
  if (!form) return;
  form.querySelectorAll("fieldset.rule-form").forEach((rule) => {
    const kind = rule.querySelector('select[name$="-kind"]');
    if (!kind) return;
    function uses(el, attribute) {
      return (el.getAttribute(attribute) || "").split(" ").includes(kind.value);
    }
    function show() {
      rule.querySelectorAll("[data-group-kinds]").forEach((group) => {
        group.hidden = !uses(group, "data-group-kinds");
      });
      rule.querySelectorAll("[data-kinds]").forEach((field) => {
        const used = uses(field, "data-kinds");
        field.hidden = !used;
        field.querySelectorAll("input, select, textarea").forEach((control) => {
          control.disabled = !used;
        });
      });
    }
    kind.addEventListener("change", show);
    show();
  });
})();
