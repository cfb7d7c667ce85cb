// Starts Swagger UI from a file: the docs page's Content-Security-Policy allows no
// inline script. No validator badge (it would call an outside service).
"use strict";
window.addEventListener("load", () => {
  const holder = document.getElementById("swagger-ui");
  window.ui = SwaggerUIBundle({
    url: holder.dataset.openapiUrl,
    dom_id: "#swagger-ui",
    validatorUrl: null,
    deepLinking: true,
    persistAuthorization: false,
    presets: [SwaggerUIBundle.presets.apis],
    layout: "BaseLayout",
  });
});
