// App pages: choosing another process on the runtime logs page shows its logs at once.
"use strict";

document.addEventListener("DOMContentLoaded", () => {
  const select = document.getElementById("log-process");
  if (select) select.addEventListener("change", () => select.form.submit());
});
