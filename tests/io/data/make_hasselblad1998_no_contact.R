# Pairwise "active intervention vs no contact" rows from the arm-level dat.hasselblad1998:
# one row per active arm of every study with a no-contact arm, so three-arm trials appear
# once per comparison with the same no-contact (control) arm.
library(metadat)
d <- dat.hasselblad1998
rows <- list()
for (s in unique(d$study)) {
  arms <- d[d$study == s, ]
  ctrl <- arms[arms$trt == "no_contact", ]
  if (nrow(ctrl) != 1) next
  for (i in which(arms$trt != "no_contact")) {
    rows[[length(rows) + 1]] <- data.frame(
      study = paste(arms$authors[i], arms$year[i]),
      treatment_events = arms$xi[i], treatment_total = arms$ni[i],
      control_events = ctrl$xi, control_total = ctrl$ni,
      intervention = arms$trt[i], year = arms$year[i])
  }
}
out <- do.call(rbind, rows)
write.csv(out, "hasselblad1998_no_contact.csv", row.names = FALSE)
print(out)
