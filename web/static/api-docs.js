/* The API reference page (/api/docs): Swagger UI over the OpenAPI document named by the page.
   A script file of its own: the Content-Security-Policy allows no inline script. */
(function () {
  var target = document.getElementById('api-reference');
  if (!target || typeof window.SwaggerUIBundle !== 'function') { return; }
  window.SwaggerUIBundle({
    url: target.getAttribute('data-openapi-url'),
    domNode: target,
    deepLinking: true,
    docExpansion: 'list',
    defaultModelsExpandDepth: 0,
    tryItOutEnabled: false,
    persistAuthorization: false
  });
}());
