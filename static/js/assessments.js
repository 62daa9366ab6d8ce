// Report jobs: reload the page when the background job finishes (the page works without this).
(function () {
  const box = document.querySelector("[data-poll]");
  const url = box && box.dataset.poll;
  if (!url) return;
  const timer = setInterval(() => {
    fetch(url, {credentials: "same-origin"})
      .then((response) => response.json())
      .then((data) => {
        if (["succeeded", "failed", "cancelled"].includes(data.status)) {
          clearInterval(timer);
          window.location.reload();
        }
      })
      .catch(() => clearInterval(timer));
  }, 2000);
})();
