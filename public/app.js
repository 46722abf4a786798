// Progressive enhancement only: every page works without this file.
document.addEventListener('click', (event) => {
  // Close an open dropdown when clicking elsewhere.
  document.querySelectorAll('details.dropdown[open]').forEach((d) => {
    if (!d.contains(event.target)) d.removeAttribute('open');
  });
});

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
