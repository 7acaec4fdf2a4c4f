"""Real data for the benchmark: ImageNet-format TFRecord shards or a folder of class sub-folders of
images, read through tf.data. `example_format` says what one record holds, `sources` finds and checks
the data on disk (format, files, number of images, classes), `pipeline` builds the tf.compat.v1 input
pipeline in the current graph (parallel reading, decoding that skips and counts bad JPEGs, TF-Slim's
training or evaluation preprocessing, fixed-shape batches copied ahead to the device),
`training_preprocessing` holds the training augmentations, `make_data` and `make_data_cli` write
shards without ImageNet, and `input_timing` times the pipeline alone. Nothing here imports the rest
of `bench`.
"""
