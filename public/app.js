// Progressive enhancement only: every page works without this file.

// Menus (the tenant switcher, the user menu, the phone navigation) close on a click anywhere else,
// and that click still does what it was for: Pico's invisible full-page layer, which swallowed it, is
// switched off in app.css. Escape closes the open menu and gives the focus back to its button.
const MENUS = 'details.dropdown[open], details.nav-menu[open]';
document.documentElement.classList.add('js');
const phone = window.matchMedia('(max-width: 768px)');

document.addEventListener('click', (event) => {
  document.querySelectorAll(MENUS).forEach((d) => {
    if (d.contains(event.target)) return;
    if (d.classList.contains('nav-menu') && !phone.matches) return;
    d.removeAttribute('open');
  });
});

document.addEventListener('keydown', (event) => {
  if (event.key !== 'Escape') return;
  const open = [...document.querySelectorAll(MENUS)].filter(
    (d) => !d.classList.contains('nav-menu') || phone.matches,
  );
  if (!open.length) return;
  const inside = open.find((d) => d.contains(document.activeElement)) ?? open[open.length - 1];
  open.forEach((d) => d.removeAttribute('open'));
  inside.querySelector('summary')?.focus();
  event.preventDefault();
});

// Browsers without ::details-content cannot show a closed <details>' content, so on a laptop the
// navigation is opened instead (on a phone it stays a menu).
if (!CSS.supports('selector(::details-content)')) {
  const nav = document.querySelector('details.nav-menu');
  const fit = () => nav && (phone.matches ? nav.removeAttribute('open') : nav.setAttribute('open', ''));
  fit();
  phone.addEventListener('change', fit);
}

// A table wider than its box scrolls sideways inside it; keyboard users need to be able to focus that
// box to scroll it (WCAG 2.1.1). Checked again when the window changes size or htmx swaps content.
function focusableScrollers() {
  document.querySelectorAll('.table-wrap').forEach((wrap) => {
    if (wrap.scrollWidth > wrap.clientWidth + 1) {
      if (!wrap.hasAttribute('tabindex')) wrap.setAttribute('tabindex', '0');
    } else if (wrap.getAttribute('tabindex') === '0') wrap.removeAttribute('tabindex');
  });
}
focusableScrollers();
window.addEventListener('resize', focusableScrollers);
document.addEventListener('htmx:afterSettle', focusableScrollers);

// "Copy link" buttons beside a read-only field (an invitation or set-password link shown once).
document.addEventListener('click', (event) => {
  const button = event.target instanceof Element ? event.target.closest('button[data-copy]') : null;
  if (!button) return;
  const field = document.getElementById(button.getAttribute('data-copy'));
  if (!field) return;
  field.select();
  const done = () => {
    button.textContent = 'Copied';
    setTimeout(() => (button.textContent = 'Copy link'), 2000);
  };
  if (navigator.clipboard) navigator.clipboard.writeText(field.value).then(done, () => document.execCommand('copy') && done());
  else if (document.execCommand('copy')) done();
});

/* ── table tools ── */
// "Select all on this page" ticks every run's box on the list; the bar says how many are selected.
(() => {
  const boxes = () => [...document.querySelectorAll('input[type="checkbox"][name="run_ids"]')];
  const sync = () => {
    const all = document.querySelector('input[data-select-all="run_ids"]');
    const list = boxes();
    const n = list.filter((b) => b.checked).length;
    if (all) {
      all.checked = n > 0 && n === list.length;
      all.indeterminate = n > 0 && n < list.length;
    }
    const count = document.querySelector('.bulk-count');
    if (count) count.textContent = n ? `${n} selected` : 'Select runs with the boxes beside them.';
  };
  document.addEventListener('change', (event) => {
    const t = event.target;
    if (!(t instanceof HTMLInputElement) || t.type !== 'checkbox') return;
    if (t.dataset.selectAll === 'run_ids') boxes().forEach((b) => (b.checked = t.checked));
    if (t.dataset.selectAll === 'run_ids' || t.name === 'run_ids') sync();
  });
  // The live refresh of the list would drop what was ticked: it waits while anything is selected.
  document.addEventListener('htmx:beforeSwap', (event) => {
    const target = event.detail && event.detail.target;
    if (target && target.id === 'run-rows' && boxes().some((b) => b.checked)) event.detail.shouldSwap = false;
  });
})();
