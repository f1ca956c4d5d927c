// Log out of the account page: POST /api/v1/logout with the session cookie
// alone ends the session and its login. The browser sends the cookie and
// an Origin of this site, which the server's CSRF check accepts.
'use strict';

document.getElementById('logout').addEventListener('click', async (event) => {
  const status = document.getElementById('logout-status');
  event.target.disabled = true;
  try {
    const res = await fetch('/api/v1/logout', { method: 'POST', credentials: 'same-origin' });
    const body = await res.json();
    if (!res.ok) throw new Error(body.message || `HTTP ${res.status}`);
    status.textContent = 'Logged out. Reload this page: it now refuses you.';
  } catch (err) {
    status.textContent = 'Logout failed: ' + err.message;
    event.target.disabled = false;
  }
});
