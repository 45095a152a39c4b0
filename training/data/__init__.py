"""One module a data set. Each loader returns raw images; `training.data.base` preprocesses them."""
