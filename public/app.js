// Progressive enhancement only: every page works without this file.
document.addEventListener('click', (event) => {
  // Close an open dropdown when clicking elsewhere.
  document.querySelectorAll('details.dropdown[open]').forEach((d) => {
    if (!d.contains(event.target)) d.removeAttribute('open');
  });
});
