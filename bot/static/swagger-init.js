// Swagger UI over the bot's own OpenAPI document (/docs). A file, not an inline script, so a
// strict Content-Security-Policy (script-src 'self') lets the page run.
window.addEventListener("load", function () {
  window.ui = SwaggerUIBundle({
    url: "openapi.json",
    dom_id: "#swagger-ui",
    deepLinking: true,
    presets: [SwaggerUIBundle.presets.apis],
  });
});
