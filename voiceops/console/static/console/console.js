/* console.js: behaviour for admin pages, loaded from our origin (CSP script-src 'self'). */
