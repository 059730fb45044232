const response = await fetch("/api/");
document.querySelector("#app").textContent = await response.text();
