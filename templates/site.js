// Progressive enhancement only: reading needs no JavaScript. Shows the copy buttons
// next to fediverse addresses and copies the address on click.
document.querySelectorAll("button[data-copy]").forEach(function (button) {
  if (!navigator.clipboard) return;
  button.hidden = false;
  var status = button.parentElement.querySelector(".copy-status");
  button.addEventListener("click", function () {
    navigator.clipboard.writeText(button.dataset.copy).then(
      function () {
        button.textContent = "Copied";
        if (status) status.textContent = "Address copied to the clipboard";
        setTimeout(function () {
          button.textContent = "Copy";
          if (status) status.textContent = "";
        }, 2000);
      },
      function () {
        if (status) status.textContent = "Copying failed: select the address instead";
      }
    );
  });
});
